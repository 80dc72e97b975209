#include "parties/party_command.hpp"

#include "net/barrier.hpp"
#include "net/parties_config.hpp"
#include "net/tls_mesh.hpp"
#include "parties/cli_options.hpp"
#include "parties/fault_injection.hpp"
#include "parties/decode_bench_flags.hpp"
#include "parties/decode_bench_job.hpp"
#include "parties/inference_job.hpp"
#include "parties/peak_memory.hpp"
#include "parties/matmul_job.hpp"
#include "protocols/session.hpp"

#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

namespace parties {

namespace {

struct PartyOptions {
  int id = -1;
  std::string parties_file;
  std::string protocol = "2pc";
  std::string job = "generate";
  int frac_bits = mpc::kDefaultFracBits;
  std::string json_file;
  NetworkOptions network;
  MatmulJobOptions matmul;
  InferenceJobOptions inference;
  DecodeBenchOptions decode_bench;
  std::string model_flag;  // --model: the generate job's model, or the decode benchmark's instead of --shape
};

// Both jobs read --model; the generate job falls back to the project's model when it is absent.
void resolve_model_flag(PartyOptions& o) {
  o.inference.policy_config = o.decode_bench.policy_config;  // one set of --kv-*/--mpcache-* flags for both jobs
  o.inference.comparisons = o.decode_bench.comparisons;      // and one --nonlinear
  if (o.model_flag.empty()) return;
  o.inference.model_dir = o.model_flag;
  o.decode_bench.model_dir = o.model_flag;
}

protocols::Backend parse_backend(const std::string& name) {
  if (name == "2pc") return protocols::Backend::TwoPartyDealer;
  if (name == "3pc") return protocols::Backend::ThreePartyReplicated;
  throw CLI::ValidationError("--protocol", "must be 2pc or 3pc, got '" + name + "'");
}

// A short, public description of the job; parties refuse to run together unless theirs agree.
std::string job_descriptor(const PartyOptions& o) {
  return "matmul " + std::to_string(o.matmul.rows) + "x" + std::to_string(o.matmul.inner) + "x" +
         std::to_string(o.matmul.cols) + (o.matmul.fixed_weight ? " fixed" : " plain") + " repeats " +
         std::to_string(o.matmul.repeats) + " seed " + std::to_string(o.matmul.demo_seed);
}

void print_summary(protocols::Protocol& proto, const MatmulJobResult& result, const net::Stats& stats) {
  std::cout << "party " << proto.mesh().self() << " (" << protocols::to_string(proto.role()) << ", "
            << protocols::to_string(proto.backend()) << ")\n";
  for (std::size_t i = 0; i < result.product_seconds.size(); ++i)
    std::cout << "  product " << i << ": " << result.product_seconds[i] * 1e3 << " ms\n";
  const net::Counters online = stats.phase_total("matmul"), offline = stats.phase_total("offline");
  std::cout << "  matmul phase: sent " << online.bytes_sent << " B, received " << online.bytes_received << " B, "
            << online.rounds << " rounds\n";
  std::cout << "  offline (dealer) traffic: sent " << offline.bytes_sent << " B, received " << offline.bytes_received
            << " B\n";
  if (result.checked) std::cout << "  max |secure - plaintext| = " << result.max_abs_error << "\n";
}

void print_inference_summary(protocols::Protocol& proto, const InferenceJobResult& r) {
  std::cout << "party " << proto.mesh().self() << " (" << protocols::to_string(proto.role()) << ", "
            << protocols::to_string(proto.backend()) << "): weights " << r.weights.seconds << " s, prefill of "
            << r.prompt_length << " tokens " << r.prefill.seconds << " s, " << r.tokens.size() + 1 << " tokens\n";
  if (!r.generated.empty()) std::cout << "generated: " << r.text << "\n";
}

// Every party tells every other that it has finished and waits for the same from all of them. The
// 2PC dealer runs ahead of the parties it serves: without this round it could finish and exit 0
// while a party it served dies later. No result is written before all parties confirmed.
void confirm_completion(net::Mesh& mesh) {
  net::PhaseScope phase(mesh.stats(), "teardown");
  net::barrier(mesh);
}

// The party's result file (--json), written through a temporary file so that a reader (the
// launcher, while the run goes on) never sees half of it.
void write_result_file(const PartyOptions& o, protocols::Protocol& proto, const std::string& description,
                       const nlohmann::json& result, bool complete) {
  if (o.json_file.empty()) return;
  nlohmann::json j = {{"party", o.id},
                      {"role", protocols::to_string(proto.role())},
                      {"protocol", o.protocol},
                      {"frac_bits", o.frac_bits},
                      {"job", o.job},
                      {"network", o.network.mesh_options().link.describe()},
                      {"session", description},
                      {"complete", complete},
                      {"result", result},
                      {"peak_rss_bytes", peak_rss_bytes()},
                      {"communication", proto.mesh().stats().to_json()}};
  const std::string partial = o.json_file + ".tmp";
  std::ofstream(partial) << j.dump(2) << "\n";
  std::filesystem::rename(partial, o.json_file);
}

// Runs the job; nothing is printed as a result before every party has confirmed completion.
nlohmann::json run_job(protocols::Session& session, const PartyOptions& o, const std::string& description) {
  protocols::Protocol& proto = session.protocol();
  if (o.job == "decode-bench") {
    nlohmann::json result = run_decode_bench_job(session, o.decode_bench, [&](const nlohmann::json& so_far) {
      write_result_file(o, proto, description, so_far, false);
    });
    confirm_completion(proto.mesh());
    print_decode_bench_summary(result, proto.mesh().self(), std::cout);
    return result;
  }
  if (o.job == "matmul") {
    const MatmulJobResult result = run_matmul_job(proto, o.matmul);
    confirm_completion(proto.mesh());
    print_summary(proto, result, proto.mesh().stats());
    return result.to_json();
  }
  const InferenceJobResult result = run_inference_job(session, o.inference);
  confirm_completion(proto.mesh());
  print_inference_summary(proto, result);
  return result.to_json();
}

std::string session_config(const PartyOptions& o) {
  if (o.job == "decode-bench") return decode_bench_session_config(o.decode_bench);
  return o.job == "matmul" ? job_descriptor(o) : inference_session_config(o.inference);
}

int run_party(PartyOptions o) {
  resolve_model_flag(o);
  const auto backend = parse_backend(o.protocol);
  const auto config = net::PartiesConfig::load(o.parties_file);
  const std::string description = session_config(o);  // validates the model folder before connecting
  if (o.job == "generate" && o.id == 1) {
    read_user_prompt(o.inference);
    check_user_prompt(o.inference);
  }
  spdlog::info("party {} connecting ({} parties)", o.id, config.parties.size());
  auto mesh = net::connect_tls_mesh(config, o.id, o.network.mesh_options());
  protocols::Session session(backend, *mesh, {mpc::FixedPoint(o.frac_bits), description, o.decode_bench.comparisons});
  const nlohmann::json result = run_job(session, o, description);
  write_result_file(o, session.protocol(), description, result, true);
  return 0;
}

// Flags only a computing party (not the 2PC dealer) takes: the backend, and P1's prompt and noise.
void add_party_only_flags(CLI::App& cmd, PartyOptions& o) {
  cmd.add_option("--protocol", o.protocol, "2pc (P0, P1 and a dealer) or 3pc (replicated)")
      ->check(CLI::IsMember({"2pc", "3pc"}))
      ->capture_default_str();
  auto* file = cmd.add_option("--prompt-file", o.inference.prompt_file,
                              "P1: read the user's prompt from this file ('-': standard input; one trailing newline "
                              "is dropped)");
  cmd.add_option("--prompt", o.inference.prompt,
                 "P1: the user's prompt as text (visible to every local user in ps: prefer --prompt-file)")
      ->excludes(file);
  cmd.add_option_function<std::uint64_t>(
         "--sampling-seed", [&o](std::uint64_t seed) { o.inference.sampling_seed = seed; },
         "P1 only: seed of the sampling noise for a reproducible run (default: fresh randomness)")
      ->check(NonNegativeInteger);
}

void add_job_flags(CLI::App& cmd, PartyOptions& o) {
  cmd.add_option("--frac-bits", o.frac_bits, "fixed-point fraction bits")->check(Range(8, 30));
  cmd.add_option("--job", o.job,
                 "generate (private inference), decode-bench (decode steps from a shared cache of n tokens) or "
                 "matmul (a secure matrix product)")
      ->check(CLI::IsMember({"generate", "decode-bench", "matmul"}));
  cmd.add_option("--model", o.model_flag,
                 "model folder (P0 reads the weights, the others config.json); default models/kjv-gpt2 for "
                 "generate, seeded random weights of --shape for decode-bench");
  cmd.add_option("--temperature", o.inference.temperature,
                 "0: greedy (secure argmax); > 0: sample from softmax(logits / T) with P1's secret noise (public)")
      ->check(Range(0.0, 100.0));
  cmd.add_option("--policy", o.inference.policy, "generate: the KV-cache policy of the private inference")
      ->check(CLI::IsMember(private_inference_policy_names()))
      ->capture_default_str();
  cmd.add_option("--max-new-tokens", o.inference.new_tokens, "tokens to generate (public)")
      ->check(Range(1, 100000))
      ->capture_default_str();
  add_decode_bench_flags(cmd, o.decode_bench);
  cmd.add_option("--rows", o.matmul.rows, "rows of the user's activation X")->check(Range(1, 1 << 16));
  cmd.add_option("--inner", o.matmul.inner, "columns of X = rows of the weight W")->check(Range(1, 1 << 16));
  cmd.add_option("--cols", o.matmul.cols, "columns of W")->check(Range(1, 1 << 16));
  cmd.add_option("--repeats", o.matmul.repeats, "products with the same weight")->check(Range(1, 1000));
  cmd.add_flag("!--no-fixed-weight", o.matmul.fixed_weight, "do not mask the weight once; use fresh matrix triples");
  cmd.add_option("--demo-seed", o.matmul.demo_seed, "public seed of the demo inputs")->check(NonNegativeInteger);
  cmd.add_option("--json", o.json_file, "write timings and communication to this JSON file");
  add_network_flags(cmd, o.network);
}

}  // namespace

void add_party_command(CLI::App& app) {
  auto options = std::make_shared<PartyOptions>();
  auto* cmd = app.add_subcommand("party", "run one party of a secure computation");
  cmd->add_option("--id", options->id, "this party's id in the parties file")->required()->check(Range(0, 2));
  cmd->add_option("--parties", options->parties_file, "parties file written by `mpcache keygen`")
      ->required()
      ->check(CLI::ExistingFile);
  add_party_only_flags(*cmd, *options);
  add_job_flags(*cmd, *options);
  add_fault_injection_flag(*cmd);
  cmd->callback([options] { throw CommandExit(run_party(*options)); });
}

void add_dealer_command(CLI::App& app) {
  auto options = std::make_shared<PartyOptions>();
  auto* cmd = app.add_subcommand("dealer", "run the 2PC dealer (party id 2), which only produces correlated randomness");
  cmd->add_option("--parties", options->parties_file, "parties file written by `mpcache keygen`")
      ->required()
      ->check(CLI::ExistingFile);
  add_job_flags(*cmd, *options);
  add_fault_injection_flag(*cmd);
  cmd->callback([options] {
    options->id = 2;
    options->protocol = "2pc";
    throw CommandExit(run_party(*options));
  });
}

}  // namespace parties
