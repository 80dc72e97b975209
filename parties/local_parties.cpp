#include "parties/local_parties.hpp"

#include "net/keygen.hpp"
#include "net/listening_ports.hpp"
#include "parties/cli_options.hpp"
#include "parties/process_launcher.hpp"

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <stdexcept>

namespace parties {

namespace fs = std::filesystem;

namespace {


std::vector<ChildSpec> party_processes(const LocalPartiesRun& run) {
  const std::string exe = self_executable();
  const auto names = party_names(run.protocol);
  std::vector<ChildSpec> children;
  for (int id = 0; id < 3; ++id) {
    ChildSpec c;
    c.name = names[id];
    if (id != run.echo_party) c.log_file = (run.dir / (names[id] + ".log")).string();
    c.argv = {exe};
    if (id == run.echo_party) c.argv.insert(c.argv.end(), {"--log-level", "info"});  // its progress lines
    c.argv.insert(c.argv.end(), {"party", "--id", std::to_string(id), "--parties", (run.dir / "parties.json").string(),
                                 "--protocol", run.protocol, "--json", result_file(run, names[id]).string()});
    c.argv.insert(c.argv.end(), run.job_args.begin(), run.job_args.end());
    if (id == 1) c.argv.insert(c.argv.end(), run.user_args.begin(), run.user_args.end());
    children.push_back(std::move(c));
  }
  return children;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("missing result file " + p.string());
  return nlohmann::json::parse(in);
}

// OOM kills counted by this process's cgroup (v2 memory.events), or -1 where unreadable.
long cgroup_oom_kills() {
  std::ifstream cgroup("/proc/self/cgroup");
  std::string line, path;
  while (std::getline(cgroup, line))
    if (line.rfind("0::", 0) == 0) path = line.substr(3);
  std::ifstream events("/sys/fs/cgroup" + path + "/memory.events");
  std::string key;
  long value = 0;
  while (events >> key >> value)
    if (key == "oom_kill") return value;
  return -1;
}

// What the kernel log says about an OOM kill of `pid`: "yes", "no", or "unreadable".
std::string kernel_log_oom_kill(pid_t pid) {
  FILE* dmesg = popen("dmesg 2>/dev/null", "r");
  if (dmesg == nullptr) return "unreadable";
  const std::string needle = "Killed process " + std::to_string(pid) + " ";
  bool found = false, any = false;
  char buffer[1024];
  while (fgets(buffer, sizeof buffer, dmesg)) {
    any = true;
    found = found || std::strstr(buffer, needle.c_str()) != nullptr;
  }
  const int status = pclose(dmesg);
  if (!any || status != 0) return "unreadable";
  return found ? "yes" : "no";
}

// What is known about why a child was killed by SIGKILL: the kernel's OOM killer or not.
std::string sigkill_evidence(const ChildOutcome& child, long oom_kills_before) {
  std::string out;
  const std::string log = kernel_log_oom_kill(child.pid);
  if (log == "yes") out = "the kernel log records an out-of-memory kill of it (pid " + std::to_string(child.pid) + ")";
  else if (log == "no") out = "the kernel log records no out-of-memory kill of pid " + std::to_string(child.pid);
  else out = "the kernel log is not readable here";
  const long after = cgroup_oom_kills();
  if (oom_kills_before >= 0 && after >= 0)
    out += "; this cgroup's memory.events counted " + std::to_string(after - oom_kills_before) +
           " OOM kill(s) during the run";
  else
    out += "; no cgroup memory.events to consult";
  return out;
}

std::string outcome_text(const ChildOutcome& c, const std::string& first_failed, long oom_kills_before) {
  if (c.timed_out) return " was stopped at the run's timeout";
  if (c.stopped) return " was stopped by the launcher after " + first_failed + " failed";
  std::string text = c.failed_first ? " failed first" : " failed";
  if (c.signal == 0) return text + " (exit code " + std::to_string(c.exit_code) + ")";
  text += ": killed by signal " + std::to_string(c.signal) + " (" + strsignal(c.signal) + ")";
  if (c.signal == SIGKILL) text += "; " + sigkill_evidence(c, oom_kills_before);
  return text;
}

void print_failure(const std::vector<ChildOutcome>& outcomes, const std::vector<ChildSpec>& specs, long oom_kills_before) {
  std::string first_failed = "another party";
  for (const auto& c : outcomes)
    if (c.failed_first) first_failed = c.name;
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].exit_code == 0) {
      std::cerr << outcomes[i].name << " finished\n";
      continue;
    }
    std::cerr << outcomes[i].name << outcome_text(outcomes[i], first_failed, oom_kills_before);
    if (specs[i].log_file.empty()) {
      std::cerr << " (its output is above)\n";
      continue;
    }
    std::cerr << "; its log " << specs[i].log_file << ":\n" << std::ifstream(specs[i].log_file).rdbuf() << "\n";
  }
}

std::vector<ChildOutcome> supervise(const LocalPartiesRun& run, const std::vector<ChildSpec>& specs) {
  SupervisionOptions options;
  options.timeout = std::chrono::seconds(static_cast<long>(run.timeout_s));
  options.on_tick = run.on_tick;
  try {
    return run_children(specs, options);
  } catch (const LauncherInterrupted& e) {
    if (run.on_tick) run.on_tick();  // what finished before the signal
    std::cerr << "[" << run.protocol << "] " << e.what() << "\n";
    throw CommandExit{128 + e.signal};
  }
}

}  // namespace

std::vector<std::string> party_names(const std::string& protocol) {
  if (protocol == "2pc") return {"P0", "P1", "dealer"};
  return {"P0", "P1", "P2"};
}

std::filesystem::path result_file(const LocalPartiesRun& run, const std::string& name) {
  return run.dir / (name + ".json");
}

double median(std::vector<double> v) {
  if (v.empty()) throw std::invalid_argument("median of an empty list");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<nlohmann::json> run_local_parties(const LocalPartiesRun& run) {
  fs::create_directories(run.dir);
  const int base_port = run.base_port ? run.base_port + (run.protocol == "3pc" ? 10 : 0) : net::pick_listening_ports(3);
  net::generate_deployment(run.dir.string(), 3, "127.0.0.1", static_cast<std::uint16_t>(base_port));
  std::cout << "[" << run.protocol << "] fresh CA and certificates in " << run.dir << "; starting 3 processes on ports "
            << base_port << "-" << base_port + 2 << "\n"
            << std::flush;
  const auto specs = party_processes(run);
  for (const auto& spec : specs) fs::remove(result_file(run, spec.name));  // none left from an earlier run
  const long oom_kills_before = cgroup_oom_kills();
  const auto outcomes = supervise(run, specs);
  if (std::any_of(outcomes.begin(), outcomes.end(), [](const auto& c) { return c.exit_code != 0; })) {
    if (run.on_tick) run.on_tick();  // what finished before the failure
    print_failure(outcomes, specs, oom_kills_before);
    throw std::runtime_error(run.protocol + " run failed");
  }
  std::vector<nlohmann::json> results;
  for (const auto& spec : specs) results.push_back(read_json(result_file(run, spec.name)));
  return results;
}

}  // namespace parties
