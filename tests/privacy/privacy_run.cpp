#include "tests/privacy/privacy_run.hpp"

#include "tests/support/session_options.hpp"

#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "protocols/session.hpp"
#include "tests/support/party_harness.hpp"

#include <mutex>

namespace privacy_test {

RecordedRun run_recorded(protocols::Backend backend, const model::TransformerWeights& weights,
                         const std::vector<int>& prompt, int new_tokens) {
  RecordedRun run;
  std::mutex mutex;
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& real_mesh) {
        RecordingMesh mesh(real_mesh);
        const int self = mesh.self();
        const model::ModelConfig& config = weights.config;
        protocols::Session session(backend, mesh,
                                   test_support::test_session_options(model::secure::secure_session_config(config)));
        model::secure::SecureTransformer secure(session, config, self == kModelOwner ? &weights : nullptr);
        const std::vector<int> own_prompt = self == kUser ? prompt : std::vector<int>{};
        std::vector<int> tokens = secure.generate(own_prompt, static_cast<int>(prompt.size()), new_tokens);
        std::lock_guard lock(mutex);
        run.received[static_cast<std::size_t>(self)] = mesh.received();
        if (self == kUser) run.tokens = std::move(tokens);
      },
      test_support::test_mesh_options());
  return run;
}

}  // namespace privacy_test
