#include "parties/local_parties.hpp"

#include "net/keygen.hpp"
#include "parties/process_launcher.hpp"

#include <algorithm>
#include <csignal>
#include <cstring>
#include <fstream>
#include <iostream>
#include <random>
#include <stdexcept>

namespace parties {

namespace fs = std::filesystem;

namespace {

int pick_base_port() {
  std::random_device rd;  // only spreads concurrent runs over ports; nothing secret depends on it
  return 20000 + static_cast<int>(rd() % 20000);
}

std::vector<std::string> party_names(const std::string& protocol) {
  if (protocol == "2pc") return {"P0", "P1", "dealer"};
  return {"P0", "P1", "P2"};
}

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
                                 "--protocol", run.protocol, "--json", (run.dir / (names[id] + ".json")).string()});
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

void print_failure(const std::vector<ChildOutcome>& outcomes, const std::vector<ChildSpec>& specs) {
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].exit_code == 0) continue;
    std::cerr << outcomes[i].name << (outcomes[i].timed_out ? " was stopped (timeout)" : " failed");
    if (outcomes[i].signal != 0 && !outcomes[i].timed_out) {
      std::cerr << ": killed by signal " << outcomes[i].signal << " (" << strsignal(outcomes[i].signal) << ")";
      if (outcomes[i].signal == SIGKILL) std::cerr << ", most likely by the kernel for lack of memory";
    }
    if (specs[i].log_file.empty()) {
      std::cerr << " (its output is above)\n";
      continue;
    }
    std::cerr << "; its log " << specs[i].log_file << ":\n" << std::ifstream(specs[i].log_file).rdbuf() << "\n";
  }
}

}  // namespace

double median(std::vector<double> v) {
  if (v.empty()) throw std::invalid_argument("median of an empty list");
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::vector<nlohmann::json> run_local_parties(const LocalPartiesRun& run) {
  fs::create_directories(run.dir);
  const int base_port = run.base_port ? run.base_port + (run.protocol == "3pc" ? 10 : 0) : pick_base_port();
  net::generate_deployment(run.dir.string(), 3, "127.0.0.1", static_cast<std::uint16_t>(base_port));
  std::cout << "[" << run.protocol << "] fresh CA and certificates in " << run.dir << "; starting 3 processes on ports "
            << base_port << "-" << base_port + 2 << "\n"
            << std::flush;
  const auto specs = party_processes(run);
  const auto outcomes = run_children(specs, std::chrono::seconds(static_cast<long>(run.timeout_s)));
  if (std::any_of(outcomes.begin(), outcomes.end(), [](const auto& c) { return c.exit_code != 0; })) {
    print_failure(outcomes, specs);
    throw std::runtime_error(run.protocol + " run failed");
  }
  std::vector<nlohmann::json> results;
  for (const auto& spec : specs) results.push_back(read_json(run.dir / (spec.name + ".json")));
  return results;
}

}  // namespace parties
