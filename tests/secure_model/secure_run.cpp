#include "tests/support/session_options.hpp"
#include "tests/secure_model/secure_run.hpp"

#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "model/transformer.hpp"
#include "protocols/session.hpp"
#include "tests/support/party_harness.hpp"

#include <chrono>
#include <mutex>

namespace secure_model_test {

SecureParty::SecureParty(protocols::Backend backend, net::Mesh& mesh, const model::TransformerWeights& weights)
    : session(backend, mesh, test_support::test_session_options(model::secure::secure_session_config(weights.config))),
      engine(session, weights.config, mesh.self() == 0 ? &weights : nullptr) {}

namespace {

const char* const kPhases[] = {"setup", model::secure::kWeightsPhase, model::secure::kPrefillPhase,
                               model::secure::kDecodePhase, protocols::kOfflinePhase};

void add_costs(const net::Stats& stats, bool count_rounds, std::map<std::string, PhaseCost>& cost) {
  for (const char* phase : kPhases) {
    PhaseCost& c = cost[phase];
    c.bytes_sent += stats.phase_total(phase).bytes_sent;
    if (count_rounds) c.rounds = stats.rounds(phase);
  }
}

}  // namespace

SecureRun run_secure(protocols::Backend backend, const model::TransformerWeights& weights,
                     const std::array<model::ModelConfig, kParties>& configs, const std::vector<int>& prompt,
                     int new_tokens) {
  SecureRun run;
  std::mutex mutex;
  const auto start = std::chrono::steady_clock::now();
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        const int self = mesh.self();
        const model::ModelConfig& config = configs[self];
        protocols::Session session(backend, mesh,
                                   test_support::test_session_options(model::secure::secure_session_config(config)));
        protocols::Protocol& proto = session.protocol();
        model::secure::SecureTransformer secure(session, config, self == 0 ? &weights : nullptr);
        const std::vector<int> own_prompt = self == 1 ? prompt : std::vector<int>{};
        std::vector<int> tokens = secure.generate(own_prompt, static_cast<int>(prompt.size()), new_tokens);
        const mpc::RingMatrix logits = proto.reveal(secure.last_logits(), protocols::kRevealToAll);
        std::lock_guard lock(mutex);
        run.tokens[self] = std::move(tokens);
        if (self == 0) run.final_logits = proto.fixed_point().decode(logits);
        add_costs(mesh.stats(), self == 0, run.cost);
      },
      test_support::test_mesh_options());
  run.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return run;
}

SecureRun run_secure(protocols::Backend backend, const model::TransformerWeights& weights,
                     const std::vector<int>& prompt, int new_tokens) {
  return run_secure(backend, weights, {weights.config, weights.config, weights.config}, prompt, new_tokens);
}

PlainRun run_plain(const model::TransformerWeights& weights, const std::vector<int>& prompt, int new_tokens) {
  model::Transformer engine(weights);
  PlainRun run;
  run.final_logits = engine.prefill(prompt);
  for (int i = 0; i < new_tokens; ++i) {
    Eigen::Index best = 0;
    run.final_logits.maxCoeff(&best);
    run.tokens.push_back(static_cast<int>(best));
    if (i + 1 < new_tokens) run.final_logits = engine.decode(static_cast<int>(best));
  }
  return run;
}

}  // namespace secure_model_test
