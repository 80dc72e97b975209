#include "parties/demo_command.hpp"

#include "model/config.hpp"
#include "parties/default_model.hpp"
#include "model/generation.hpp"
#include "model/gumbel_sampling.hpp"
#include "model/sampling.hpp"
#include "model/tokenizer.hpp"
#include "model/transformer.hpp"
#include "model/weights.hpp"
#include "kvcache/registry/policy_registry.hpp"
#include "parties/policy_flags.hpp"
#include "parties/cli_options.hpp"
#include "parties/decode_bench_flags.hpp"
#include "parties/inference_job.hpp"
#include "parties/local_parties.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace parties {

namespace fs = std::filesystem;

namespace {

constexpr const char* kPromptFile = "prompt.txt";  // in the protocol's run folder, mode 0600

struct DemoOptions {
  std::vector<std::string> protocols = {"2pc", "3pc"};
  std::string job = "generate";
  std::string model_dir = default_model_dir();
  std::string prompt = "And God said, Let there be light: and there was light. And God";
  int new_tokens = 8;
  double temperature = 0.0;         // 0: greedy
  std::uint64_t sampling_seed = 1;  // the user's noise seed, so the plaintext check can replay it
  int rows = 4, inner = 768, cols = 768, repeats = 5;
  int frac_bits = 16;
  int base_port = 0;  // 0: pick one at random, so that demos can run side by side
  double timeout_s = 300;
  std::string work_dir;
  std::string json_file;
  std::string network = "loopback";        // emulated link between the parties
  std::string policy = "full";             // KV-cache policy of the private inference
  kvcache::PolicyConfig policy_config;     // for the plaintext check
  protocols::Comparisons comparisons = protocols::Comparisons::boolean;  // --nonlinear, passed on to the parties
  std::vector<std::string> policy_args;    // the policy flags as given, passed on to the parties
};

// The job flags of every party, and those only the user's party gets (the prompt, its noise seed).
LocalPartiesRun demo_run(const DemoOptions& o, const std::string& protocol, const fs::path& root) {
  LocalPartiesRun run;
  run.protocol = protocol;
  run.dir = root / protocol;
  run.base_port = o.base_port;
  run.timeout_s = o.timeout_s;
  run.job_args = {"--frac-bits", std::to_string(o.frac_bits), "--job", o.job, "--network", o.network};
  const std::vector<std::string> job_flags =
      o.job == "matmul"
          ? std::vector<std::string>{"--rows", std::to_string(o.rows), "--inner", std::to_string(o.inner), "--cols",
                                     std::to_string(o.cols), "--repeats", std::to_string(o.repeats)}
          : std::vector<std::string>{"--model", o.model_dir, "--max-new-tokens", std::to_string(o.new_tokens),
                                     "--temperature", std::to_string(o.temperature), "--policy", o.policy,
                                     "--nonlinear", protocols::to_string(o.comparisons)};
  run.job_args.insert(run.job_args.end(), job_flags.begin(), job_flags.end());
  if (o.job == "generate") run.job_args.insert(run.job_args.end(), o.policy_args.begin(), o.policy_args.end());
  // The prompt reaches P1 in a file only its owner can read, not on a command line (visible in ps).
  if (o.job == "generate")
    run.user_args = {"--prompt-file", (run.dir / kPromptFile).string(), "--sampling-seed", std::to_string(o.sampling_seed)};
  if (o.job == "generate") run.echo_party = 0;  // the model owner's progress (weights, prefill layers, tokens)
  return run;
}

// Writes `text` to a new file of mode 0600; removes it again when destroyed.
class PrivateFile {
 public:
  PrivateFile(fs::path path, const std::string& text) : path_(std::move(path)) {
    fs::create_directories(path_.parent_path());
    const int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) throw std::runtime_error("cannot write " + path_.string() + ": " + std::strerror(errno));
    const std::string content = text + "\n";  // the reader drops one trailing newline
    const bool ok = ::fchmod(fd, 0600) == 0 && ::write(fd, content.data(), content.size()) ==
                                                  static_cast<ssize_t>(content.size());
    ::close(fd);
    if (!ok) throw std::runtime_error("cannot write " + path_.string());
  }
  ~PrivateFile() {
    std::error_code ec;
    fs::remove(path_, ec);
  }
  PrivateFile(const PrivateFile&) = delete;
  PrivateFile& operator=(const PrivateFile&) = delete;

 private:
  fs::path path_;
};

std::uint64_t phase_bytes_sent(const nlohmann::json& party, const std::string& phase) {
  const auto& phases = party["communication"]["phases"];
  return phases.contains(phase) ? phases[phase]["total"]["bytes_sent"].get<std::uint64_t>() : 0;
}

std::uint64_t phase_rounds(const nlohmann::json& party, const std::string& phase) {
  const auto& phases = party["communication"]["phases"];
  return phases.contains(phase) ? phases[phase]["total"]["rounds"].get<std::uint64_t>() : 0;
}

std::vector<nlohmann::json> run_parties(const DemoOptions& o, const std::string& protocol, const fs::path& root) {
  const LocalPartiesRun run = demo_run(o, protocol, root);
  std::optional<PrivateFile> prompt;
  if (o.job == "generate") prompt.emplace(run.dir / kPromptFile, o.prompt);
  return run_local_parties(run);
}

nlohmann::json matmul_row(const DemoOptions& o, const std::string& protocol, const std::vector<nlohmann::json>& p) {
  const auto seconds = p[1]["result"]["product_seconds"].get<std::vector<double>>();
  const std::uint64_t online = phase_bytes_sent(p[0], "matmul") + phase_bytes_sent(p[1], "matmul") +
                               (protocol == "3pc" ? phase_bytes_sent(p[2], "matmul") : 0);
  const std::uint64_t offline = protocol == "2pc" ? phase_bytes_sent(p[2], "offline") : 0;
  return {{"protocol", protocol},
          {"median_ms", median(seconds) * 1e3},
          {"online_bytes_per_product", online / o.repeats},
          {"offline_bytes_per_product", offline / o.repeats},
          {"rounds_per_product", phase_rounds(p[1], "matmul") / o.repeats},
          {"max_abs_error", p[1]["result"]["max_abs_error"]},
          {"parties", p}};
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

// Every party process's peak resident memory (from its result file), one line per protocol.
void print_peak_memory(const std::string& protocol, const std::vector<nlohmann::json>& parties) {
  std::cout << "[" << protocol << "] peak resident memory:";
  for (const auto& party : parties)
    std::cout << " " << party["role"].get<std::string>() << " " << std::fixed << std::setprecision(0)
              << static_cast<double>(party.value("peak_rss_bytes", std::uint64_t{0})) / 1e6 << " MB";
  std::cout << std::defaultfloat << "\n";
}

int run_matmul_demo(const DemoOptions& o, const fs::path& root) {
  std::vector<nlohmann::json> rows;
  for (const auto& protocol : o.protocols) rows.push_back(matmul_row(o, protocol, run_parties(o, protocol, root)));
  print_table(o, rows);
  for (const auto& r : rows) print_peak_memory(r["protocol"].get<std::string>(), r["parties"].get<std::vector<nlohmann::json>>());
  // The product is checked against plaintext (the demo's inputs come from a public seed). Each of
  // the `inner` terms carries the rounding of both encoded inputs (at most 2^-(F+1) times |x| <= 1
  // plus |w| <= 1/2), and truncation adds at most one unit: a bound well above the typical error.
  const double tolerance = (1.5 * o.inner + 2.0) / static_cast<double>(1 << o.frac_bits);
  bool ok = true;
  for (const auto& r : rows) ok = ok && r["max_abs_error"].get<double>() <= tolerance;
  std::cout << (ok ? "result matches plaintext" : "RESULT DOES NOT MATCH PLAINTEXT") << " (tolerance " << tolerance
            << ")\n";
  if (!o.json_file.empty()) std::ofstream(o.json_file) << nlohmann::json(rows).dump(2) << "\n";
  return ok ? 0 : 1;
}

// The plaintext engine's tokens, the reference the private run is compared with: greedy, or
// Gumbel-max sampling replaying the user's noise from the same seed; the same cache policy.
std::vector<int> plaintext_tokens(const DemoOptions& o) {
  const auto weights = model::load_weights(o.model_dir);
  const auto tokenizer = model::Tokenizer::load(o.model_dir);
  model::Transformer engine(weights);
  const std::vector<int> prompt = tokenizer.encode(o.prompt);
  const auto policy = kvcache::make_policy(o.policy, o.policy_config);
  model::GumbelNoise noise(model::GumbelNoise::seed_from(o.sampling_seed));
  const auto choose = [&](const Eigen::RowVectorXd& logits) {
    if (o.temperature == 0) return model::argmax(logits);
    return model::gumbel_max_token(logits, o.temperature, noise.next(static_cast<int>(logits.size())));
  };
  std::vector<int> tokens{choose(engine.prefill(prompt, policy.get()))};
  while (static_cast<int>(tokens.size()) < o.new_tokens) tokens.push_back(choose(engine.decode(tokens.back())));
  return tokens;
}

void print_inference_table(const std::string& protocol, const std::vector<nlohmann::json>& p,
                           const model::Tokenizer& tokenizer) {
  const nlohmann::json& user = p[1]["result"];
  const auto generated = user["generated"].get<std::vector<int>>();
  std::cout << "\n[" << protocol << "] generated: " << user["text"].get<std::string>() << "\n";
  std::cout << std::left << std::setw(10) << "step" << std::setw(16) << "token" << std::right << std::setw(11)
            << "latency s" << std::setw(15) << "online bytes" << std::setw(15) << "offline bytes" << std::setw(8)
            << "rounds" << "\n";
  auto row = [&](const std::string& step, const std::string& token, auto&& figures_of) {
    std::uint64_t online = 0, offline = 0;
    for (const auto& party : p) {
      online += figures_of(party)["online_bytes_sent"].template get<std::uint64_t>();
      offline += figures_of(party)["offline_bytes_sent"].template get<std::uint64_t>();
    }
    const nlohmann::json& mine = figures_of(p[1]);
    const std::string shown = escape_token(token);
    std::cout << std::left << std::setw(10) << step << std::setw(16) << ("'" + shown + "'") << std::right
              << std::fixed << std::setprecision(3) << std::setw(11) << mine["seconds"].template get<double>()
              << std::setw(15) << online << std::setw(15) << offline << std::setw(8)
              << mine["rounds"].template get<std::uint64_t>() << std::defaultfloat << "\n";
  };
  auto token_text = [&](std::size_t i) { return i < generated.size() ? tokenizer.decode(std::span(&generated[i], 1)) : ""; };
  row("weights", "", [](const nlohmann::json& party) -> const nlohmann::json& { return party["result"]["weights"]; });
  row("prefill", token_text(0), [](const nlohmann::json& party) -> const nlohmann::json& { return party["result"]["prefill"]; });
  const std::size_t steps = user["tokens"].size();
  for (std::size_t i = 0; i < steps; ++i)
    row("token " + std::to_string(i + 2), token_text(i + 1),
        [i](const nlohmann::json& party) -> const nlohmann::json& { return party["result"]["tokens"][i]; });
}

int run_generate_demo(const DemoOptions& o, const fs::path& root) {
  const auto tokenizer = model::Tokenizer::load(o.model_dir);
  const auto config = model::ModelConfig::load(fs::path(o.model_dir) / "config.json");
  const auto prompt_length = static_cast<int>(tokenizer.encode(o.prompt).size());
  if (prompt_length == 0) throw std::invalid_argument("the prompt is empty");
  model::check_fits_context(prompt_length, o.new_tokens, config.max_positions);
  std::cout << "private inference on " << o.model_dir << ": P0 holds the weights, P1 the prompt \"" << o.prompt
            << "\"; " << o.new_tokens << " tokens ("
            << (o.temperature == 0 ? "greedy" : "sampled at temperature " + std::to_string(o.temperature) +
                                                     " with P1's noise seed " + std::to_string(o.sampling_seed))
            << "), revealed to P1 only; KV-cache policy " << o.policy << "\n"
            << std::flush;
  const std::vector<int> expected = plaintext_tokens(o);
  nlohmann::json all = nlohmann::json::object();
  bool ok = true;
  for (const auto& protocol : o.protocols) {
    const auto parties = run_parties(o, protocol, root);
    print_inference_table(protocol, parties, tokenizer);
    print_peak_memory(protocol, parties);
    const auto generated = parties[1]["result"]["generated"].get<std::vector<int>>();
    std::size_t same = 0;
    for (std::size_t i = 0; i < std::min(generated.size(), expected.size()); ++i) same += generated[i] == expected[i];
    std::cout << "[" << protocol << "] " << same << "/" << expected.size()
              << " tokens identical to the plaintext engine's tokens\n";
    ok = ok && same == expected.size();
    all[protocol] = {{"parties", parties}, {"tokens_matching_plaintext", same}};
  }
  std::cout << "(latency and rounds as seen by P1; bytes summed over the three parties; offline = the 2PC dealer's)\n";
  if (!o.json_file.empty()) std::ofstream(o.json_file) << all.dump(2) << "\n";
  return ok ? 0 : 1;
}

int run_demo(const DemoOptions& o) {
  const fs::path root = o.work_dir.empty() ? fs::temp_directory_path() / ("mpcache-demo-" + std::to_string(getpid()))
                                           : fs::path(o.work_dir);
  fs::create_directories(root);
  std::cout << "network between the parties: " << net::parse_link_profile(o.network).describe() << "\n";
  const int rc = o.job == "matmul" ? run_matmul_demo(o, root) : run_generate_demo(o, root);
  if (o.work_dir.empty()) fs::remove_all(root);
  return rc;
}

}  // namespace

std::string escape_token(const std::string& text) {
  std::string out;
  for (const char c : text) {
    if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else out += c;
  }
  return out;
}

void add_demo_command(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  auto* cmd = app.add_subcommand("demo", "run all parties locally over TLS and print the result, time and bytes");
  cmd->add_option("--protocol", o->protocols, "2pc and/or 3pc")->check(CLI::IsMember({"2pc", "3pc"}));
  cmd->add_option("--job", o->job, "generate (private inference, default) or matmul (a secure matrix product)")
      ->check(CLI::IsMember({"generate", "matmul"}));
  cmd->add_option("--model", o->model_dir, "model folder")->check(CLI::ExistingDirectory);
  cmd->add_option("--prompt", o->prompt, "the user's prompt");
  cmd->add_option("--max-new-tokens", o->new_tokens, "tokens to generate")->check(Range(1, 100000));
  cmd->add_option("--temperature", o->temperature, "0: greedy; > 0: sampling with the user's secret noise")
      ->check(Range(0.0, 100.0));
  cmd->add_option("--seed", o->sampling_seed, "seed of the user's sampling noise (replayed by the plaintext check)")
      ->check(NonNegativeInteger);
  cmd->add_option("--policy", o->policy, "KV-cache policy of the private inference (flags of the policy below)")
      ->check(CLI::IsMember(private_inference_policy_names()))
      ->capture_default_str();
  add_policy_flags(*cmd, o->policy_config);
  add_nonlinear_flag(*cmd, o->comparisons);
  cmd->add_option("--rows", o->rows, "rows of the user's activation")->check(Range(1, 4096));
  cmd->add_option("--inner", o->inner, "inner dimension")->check(Range(1, 16384));
  cmd->add_option("--cols", o->cols, "columns of the weight")->check(Range(1, 16384));
  cmd->add_option("--repeats", o->repeats, "products per run (median reported)")->check(Range(1, 100));
  cmd->add_option("--frac-bits", o->frac_bits, "fixed-point fraction bits")->check(Range(8, 30));
  cmd->add_option("--base-port", o->base_port, "first port (default: random)")->check(Range(1024, 65000));
  cmd->add_option("--timeout", o->timeout_s, "seconds before the parties are stopped")->check(Range(1.0, 86400.0));
  cmd->add_option("--work-dir", o->work_dir, "keep certificates, logs and per-party JSON here");
  cmd->add_option("--json", o->json_file, "write the summary and all per-party figures to this JSON file");
  add_link_flag(*cmd, o->network);
  cmd->callback([o, cmd] {
    o->policy_args = given_options_in_group(*cmd, kPolicyFlagGroup);
    throw CommandExit(run_demo(*o));
  });
}

}  // namespace parties
