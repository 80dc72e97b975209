// Secure GPT-2 generation against the plaintext engine: greedy-token agreement per step, the max
// logit error, and the cost of the phases (weights, prefill, per decode token) for both backends.
// Parties run as threads over an in-process mesh (net::LocalMesh), which counts rounds and bytes
// exactly as the TLS mesh does; times exclude network latency and bandwidth, which follow from the
// counts (time + rounds * RTT + bytes / bandwidth).
//
// Verification only: the logits of every step are opened (in a separate "verify" phase that is not
// part of the reported cost) to measure the error; a deployment never opens them.
//
// Usage: secure_model_bench [--model DIR] [--prompt TEXT] [--tokens N] [--backend 2pc|3pc|both]
#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "model/tokenizer.hpp"
#include "model/transformer.hpp"
#include "model/weights.hpp"
#include "net/local_mesh.hpp"
#include "protocols/session.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace {

using protocols::Backend;
constexpr const char* kVerifyPhase = "verify";

struct StepLogits {
  std::vector<int> tokens;
  std::vector<model::Vector> logits;  // the logits each token was chosen from
};

StepLogits plain_greedy(const model::TransformerWeights& weights, const std::vector<int>& prompt, int new_tokens) {
  model::Transformer engine(weights);
  StepLogits out;
  model::Vector logits = engine.prefill(prompt);
  for (int i = 0; i < new_tokens; ++i) {
    Eigen::Index best = 0;
    logits.maxCoeff(&best);
    out.tokens.push_back(static_cast<int>(best));
    out.logits.push_back(logits);
    if (i + 1 < new_tokens) logits = engine.decode(static_cast<int>(best));
  }
  return out;
}

struct SecureResult {
  StepLogits steps;                                   // tokens as P1 learnt them, logits opened for checking
  std::map<std::string, std::uint64_t> rounds;        // P0's count
  std::map<std::string, std::uint64_t> bytes;        // sent by all parties
  std::map<std::string, double> seconds;             // P0's wall time
};

// One party's part of the run, mirroring SecureTransformer::generate with the logits opened per step.
void run_party(net::Mesh& mesh, Backend backend, const model::TransformerWeights& weights, const std::vector<int>& prompt,
               int new_tokens, SecureResult& result, std::mutex& mutex) {
  const int self = mesh.self();
  protocols::Session session(backend, mesh, {.config = model::secure::secure_session_config(weights.config)});
  protocols::Protocol& proto = session.protocol();
  std::map<std::string, double> seconds;
  auto timed = [&](const char* phase, auto&& step) {
    const auto start = std::chrono::steady_clock::now();
    step();
    seconds[phase] += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  std::optional<model::secure::SecureTransformer> secure;
  timed(model::secure::kWeightsPhase, [&] { secure.emplace(session, weights.config, self == 0 ? &weights : nullptr); });
  StepLogits steps;
  protocols::Share logits;
  timed(model::secure::kPrefillPhase, [&] { logits = secure->prefill(self == 1 ? prompt : std::vector<int>{}, static_cast<int>(prompt.size())); });
  for (int i = 0; i < new_tokens; ++i) {
    const char* phase = i == 0 ? model::secure::kPrefillPhase : model::secure::kDecodePhase;
    {
      net::PhaseScope verify(mesh.stats(), kVerifyPhase);
      const mpc::RingMatrix opened = proto.reveal(logits, protocols::kRevealToAll);
      steps.logits.push_back(proto.fixed_point().decode(opened).row(0));
    }
    model::secure::NextToken next;
    timed(phase, [&] {
      net::PhaseScope scope(mesh.stats(), phase);
      next = secure->greedy_token(logits);
    });
    if (next.token) steps.tokens.push_back(*next.token);
    if (i + 1 < new_tokens) timed(model::secure::kDecodePhase, [&] { logits = secure->decode(next.one_hot); });
  }
  std::lock_guard lock(mutex);
  for (const auto& [phase, per_peer] : mesh.stats().by_phase_and_peer()) {
    result.bytes[phase] += mesh.stats().phase_total(phase).bytes_sent;
    if (self == 0) result.rounds[phase] = mesh.stats().rounds(phase);
  }
  if (self == 0) {
    result.seconds = seconds;
    result.steps.logits = std::move(steps.logits);
  }
  if (self == 1) result.steps.tokens = std::move(steps.tokens);
}

void report(Backend backend, const SecureResult& secure, const StepLogits& plain) {
  const int steps = static_cast<int>(plain.tokens.size());
  int agree = 0;
  double max_error = 0;
  for (int i = 0; i < steps; ++i) {
    if (secure.steps.tokens[i] == plain.tokens[i]) ++agree;
    // Logits are comparable only while both runs saw the same tokens.
    if (i == 0 || secure.steps.tokens[i - 1] == plain.tokens[i - 1])
      max_error = std::max(max_error, (secure.steps.logits[i] - plain.logits[i]).cwiseAbs().maxCoeff());
    else
      break;
  }
  std::printf("== %s: greedy agreement %d/%d steps, max |logit error| %.3g\n", protocols::to_string(backend).c_str(), agree,
              steps, max_error);
  std::printf("   tokens secure:");
  for (int t : secure.steps.tokens) std::printf(" %d", t);
  std::printf("\n   tokens plain: ");
  for (int t : plain.tokens) std::printf(" %d", t);
  std::printf("\n   %-8s %8s %14s %10s\n", "phase", "rounds", "bytes", "seconds");
  for (const auto& [phase, bytes] : secure.bytes) {
    if (phase == kVerifyPhase) continue;
    const auto rounds = secure.rounds.count(phase) ? secure.rounds.at(phase) : 0;
    const double seconds = secure.seconds.count(phase) ? secure.seconds.at(phase) : 0.0;
    std::printf("   %-8s %8llu %14llu %10.3f\n", phase.c_str(), static_cast<unsigned long long>(rounds),
                static_cast<unsigned long long>(bytes), seconds);
  }
  if (steps > 1) {
    const double per = 1.0 / (steps - 1);
    const auto bytes_of = [&](const char* p) { return secure.bytes.count(p) ? secure.bytes.at(p) : 0ULL; };
    std::printf("   per decode token: %.0f rounds, %.0f online bytes, %.3f s\n", secure.rounds.at(model::secure::kDecodePhase) * per,
                bytes_of(model::secure::kDecodePhase) * per, secure.seconds.at(model::secure::kDecodePhase) * per);
    // The dealer's traffic is accounted in one "offline" phase for the whole run, not per phase.
    std::printf("   offline (dealer) bytes for the whole run: %llu\n", static_cast<unsigned long long>(bytes_of(protocols::kOfflinePhase)));
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Secure GPT-2 generation vs the plaintext engine"};
  std::string model_dir = std::string(MPCACHE_SOURCE_DIR) + "/models/kjv-gpt2";
  std::string prompt_text = "In the beginning God created the heaven and the earth. And the";
  int new_tokens = 16;
  std::string backend_name = "both";
  app.add_option("--model", model_dir, "checkpoint folder (config.json, model.safetensors, tokenizer files)");
  app.add_option("--prompt", prompt_text, "prompt text");
  app.add_option("--tokens", new_tokens, "tokens to generate")->check(CLI::PositiveNumber);
  std::string network_name = "loopback";
  app.add_option("--network", network_name, "emulated link between the parties: loopback, lan, wan or RATE,RTT")
      ->capture_default_str();
  app.add_option("--backend", backend_name, "2pc, 3pc or both")->check(CLI::IsMember({"2pc", "3pc", "both"}));
  CLI11_PARSE(app, argc, argv);
  try {
    const net::LinkProfile network = net::parse_link_profile(network_name);
    std::printf("network between the parties: %s\n", network.describe().c_str());
    const model::TransformerWeights weights = model::load_weights(model_dir);
    const std::vector<int> prompt = model::Tokenizer::load(model_dir).encode(prompt_text);
    std::printf("model %s, prompt of %zu tokens, %d new tokens\n", model_dir.c_str(), prompt.size(), new_tokens);
    const StepLogits plain = plain_greedy(weights, prompt, new_tokens);
    for (Backend backend : {Backend::TwoPartyDealer, Backend::ThreePartyReplicated}) {
      if (backend_name != "both" && backend_name != protocols::to_string(backend)) continue;
      SecureResult result;
      std::mutex mutex;
      net::run_local_parties(3, [&](net::Mesh& mesh) { run_party(mesh, backend, weights, prompt, new_tokens, result, mutex); },
                             std::chrono::seconds(120), network);
      report(backend, result, plain);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "secure_model_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
