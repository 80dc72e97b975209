#include "parties/demo_command.hpp"

#include "net/keygen.hpp"
#include "parties/cli_options.hpp"
#include "parties/process_launcher.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>

namespace parties {

namespace fs = std::filesystem;

namespace {

struct DemoOptions {
  std::vector<std::string> protocols = {"2pc", "3pc"};
  int rows = 4, inner = 768, cols = 768, repeats = 5;
  int frac_bits = 16;
  int base_port = 0;  // 0: pick one at random, so that demos can run side by side
  double timeout_s = 300;
  std::string work_dir;
  std::string json_file;
};

int pick_base_port() {
  std::random_device rd;
  return 20000 + static_cast<int>(rd() % 20000);
}

std::vector<ChildSpec> party_processes(const DemoOptions& o, const std::string& protocol, const fs::path& dir) {
  const std::string exe = self_executable();
  std::vector<ChildSpec> children;
  const std::vector<std::string> names =
      protocol == "2pc" ? std::vector<std::string>{"P0", "P1", "dealer"} : std::vector<std::string>{"P0", "P1", "P2"};
  for (int id = 0; id < 3; ++id) {
    ChildSpec c;
    c.name = names[id];
    c.log_file = (dir / (names[id] + ".log")).string();
    c.argv = {exe,          "party",        "--id",
              std::to_string(id), "--parties", (dir / "parties.json").string(),
              "--protocol", protocol,       "--rows",
              std::to_string(o.rows), "--inner", std::to_string(o.inner),
              "--cols",     std::to_string(o.cols), "--repeats",
              std::to_string(o.repeats), "--frac-bits", std::to_string(o.frac_bits),
              "--json",     (dir / (names[id] + ".json")).string()};
    children.push_back(std::move(c));
  }
  return children;
}

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  if (!in) throw std::runtime_error("missing result file " + p.string());
  return nlohmann::json::parse(in);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

std::uint64_t phase_bytes_sent(const nlohmann::json& party, const std::string& phase) {
  const auto& phases = party["communication"]["phases"];
  return phases.contains(phase) ? phases[phase]["total"]["bytes_sent"].get<std::uint64_t>() : 0;
}

std::uint64_t phase_rounds(const nlohmann::json& party, const std::string& phase) {
  const auto& phases = party["communication"]["phases"];
  return phases.contains(phase) ? phases[phase]["total"]["rounds"].get<std::uint64_t>() : 0;
}

void print_failure(const std::vector<ChildOutcome>& outcomes, const std::vector<ChildSpec>& specs) {
  for (std::size_t i = 0; i < outcomes.size(); ++i) {
    if (outcomes[i].exit_code == 0) continue;
    std::cerr << outcomes[i].name << (outcomes[i].timed_out ? " was stopped (timeout)" : " failed") << "; its log "
              << specs[i].log_file << ":\n";
    std::ifstream log(specs[i].log_file);
    std::cerr << log.rdbuf() << "\n";
  }
}

// Runs one protocol's parties; returns the row of the summary table, or throws.
nlohmann::json run_protocol(const DemoOptions& o, const std::string& protocol, const fs::path& root) {
  const fs::path dir = root / protocol;
  fs::create_directories(dir);
  const int base_port = o.base_port ? o.base_port + (protocol == "3pc" ? 10 : 0) : pick_base_port();
  net::generate_deployment(dir.string(), 3, "127.0.0.1", static_cast<std::uint16_t>(base_port));
  std::cout << "[" << protocol << "] fresh CA and certificates in " << dir << "; starting 3 processes on ports "
            << base_port << "-" << base_port + 2 << "\n"
            << std::flush;
  const auto specs = party_processes(o, protocol, dir);
  const auto outcomes = run_children(specs, std::chrono::seconds(static_cast<long>(o.timeout_s)));
  if (std::any_of(outcomes.begin(), outcomes.end(), [](const auto& c) { return c.exit_code != 0; })) {
    print_failure(outcomes, specs);
    throw std::runtime_error(protocol + " demo failed");
  }
  const nlohmann::json p0 = read_json(dir / "P0.json"), p1 = read_json(dir / "P1.json");
  const nlohmann::json p2 = read_json(dir / (protocol == "2pc" ? "dealer.json" : "P2.json"));
  const auto seconds = p1["result"]["product_seconds"].get<std::vector<double>>();
  const std::uint64_t online = phase_bytes_sent(p0, "matmul") + phase_bytes_sent(p1, "matmul") +
                               (protocol == "3pc" ? phase_bytes_sent(p2, "matmul") : 0);
  const std::uint64_t offline = protocol == "2pc" ? phase_bytes_sent(p2, "offline") : 0;
  return {{"protocol", protocol},
          {"median_ms", median(seconds) * 1e3},
          {"online_bytes_per_product", online / o.repeats},
          {"offline_bytes_per_product", offline / o.repeats},
          {"rounds_per_product", phase_rounds(p1, "matmul") / o.repeats},
          {"max_abs_error", p1["result"]["max_abs_error"]},
          {"parties", {p0, p1, p2}}};
}

void print_table(const DemoOptions& o, const std::vector<nlohmann::json>& rows) {
  std::cout << "\nSecure X.W, X " << o.rows << "x" << o.inner << " (user's), W " << o.inner << "x" << o.cols
            << " (model owner's, masked once), " << o.frac_bits << " fraction bits; only P1 learns the product.\n"
            << "Per product: matmul, truncation and the reveal to P1; bytes summed over the parties.\n";
  std::cout << std::left << std::setw(9) << "protocol" << std::right << std::setw(12) << "median ms" << std::setw(16)
            << "online B/prod" << std::setw(17) << "offline B/prod" << std::setw(8) << "rounds" << std::setw(14)
            << "max |error|" << "\n";
  for (const auto& r : rows) {
    std::cout << std::left << std::setw(9) << r["protocol"].get<std::string>() << std::right << std::fixed
              << std::setprecision(2) << std::setw(12) << r["median_ms"].get<double>() << std::setw(16)
              << r["online_bytes_per_product"].get<std::uint64_t>() << std::setw(17)
              << r["offline_bytes_per_product"].get<std::uint64_t>() << std::setw(8)
              << r["rounds_per_product"].get<std::uint64_t>() << std::setw(14) << std::scientific
              << std::setprecision(2) << r["max_abs_error"].get<double>() << std::defaultfloat << "\n";
  }
}

int run_demo(const DemoOptions& o) {
  const fs::path root = o.work_dir.empty() ? fs::temp_directory_path() / ("mpcache-demo-" + std::to_string(getpid()))
                                           : fs::path(o.work_dir);
  fs::create_directories(root);
  std::vector<nlohmann::json> rows;
  for (const auto& protocol : o.protocols) rows.push_back(run_protocol(o, protocol, root));
  print_table(o, rows);
  // The product is checked against plaintext (the demo's inputs come from a public seed). Each of
  // the `inner` terms carries the rounding of both encoded inputs (at most 2^-(F+1) times |x| <= 1
  // plus |w| <= 1/2), and truncation adds at most one unit: a bound well above the typical error.
  const double tolerance = (1.5 * o.inner + 2.0) / static_cast<double>(1 << o.frac_bits);
  bool ok = true;
  for (const auto& r : rows) ok = ok && r["max_abs_error"].get<double>() <= tolerance;
  std::cout << (ok ? "result matches plaintext" : "RESULT DOES NOT MATCH PLAINTEXT") << " (tolerance " << tolerance
            << ")\n";
  if (!o.json_file.empty()) std::ofstream(o.json_file) << nlohmann::json(rows).dump(2) << "\n";
  if (o.work_dir.empty()) fs::remove_all(root);
  return ok ? 0 : 1;
}

}  // namespace

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "run all parties locally over TLS and print the result, time and bytes");
  cmd->add_option("--protocol", o->protocols, "2pc and/or 3pc")->check(CLI::IsMember({"2pc", "3pc"}));
  cmd->add_option("--rows", o->rows, "rows of the user's activation")->check(CLI::Range(1, 4096));
  cmd->add_option("--inner", o->inner, "inner dimension")->check(CLI::Range(1, 16384));
  cmd->add_option("--cols", o->cols, "columns of the weight")->check(CLI::Range(1, 16384));
  cmd->add_option("--repeats", o->repeats, "products per run (median reported)")->check(CLI::Range(1, 100));
  cmd->add_option("--frac-bits", o->frac_bits, "fixed-point fraction bits")->check(CLI::Range(8, 30));
  cmd->add_option("--base-port", o->base_port, "first port (default: random)")->check(CLI::Range(1024, 65000));
  cmd->add_option("--timeout", o->timeout_s, "seconds before the parties are stopped")->check(CLI::Range(1.0, 86400.0));
  cmd->add_option("--work-dir", o->work_dir, "keep certificates, logs and per-party JSON here");
  cmd->add_option("--json", o->json_file, "write the summary and all per-party figures to this JSON file");
  cmd->callback([o] { throw CommandExit(run_demo(*o)); });
}

}  // namespace parties
