// The secure engine with a cache policy gives the same greedy tokens as the plaintext engine with
// the plaintext policy of the same name (both backends, real TLS parties): MPCache's secret
// hierarchical selection with cross-layer sharing picks the clusters the plaintext reference
// picks, StreamingLLM attends the same window and Quest the same pages. Also: every round of an MPCache decode step is
// charged to a profiled class, with the selection's own classes present.
#include "tests/support/session_options.hpp"
#include "tests/secure_model/secure_run.hpp"

#include "kvcache/registry/policy_registry.hpp"
#include "kvcache/secure/secure_policies.hpp"
#include "model/model_shapes.hpp"
#include "model/sampling.hpp"
#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "model/transformer.hpp"
#include "protocols/session.hpp"
#include "tests/support/party_harness.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <random>

namespace secure_model_test {
namespace {

using protocols::Backend;
using protocols::Share;

constexpr int kPromptLength = 44;
constexpr int kNewTokens = 5;
// Larger than the default 0.02 so that attention is peaked and the choice of rows shows in the
// logits (checked by MpcacheSelectionChangesTheLogits).
constexpr double kWeightScale = 0.15;
// Fixed-point error of the secure logits on this model (measured ~1e-3 on the tiny models).
constexpr double kLogitBound = 2e-2;

// Four layers so that cross-layer sharing happens (layers 0-2 select, layer 3 reuses layer 2's).
const model::TransformerWeights& four_layer_weights() {
  static const model::TransformerWeights weights = [] {
    model::ModelConfig config = model::named_shape("tiny", 64);
    config.layers = 4;
    return model::random_weights(config, 11, kWeightScale);
  }();
  return weights;
}

std::vector<int> prompt_tokens() {
  std::mt19937 rng(5);
  std::uniform_int_distribution<int> token(0, four_layer_weights().config.vocab_size - 1);
  std::vector<int> prompt(kPromptLength);
  for (int& t : prompt) t = token(rng);
  return prompt;
}

// Small clusters so that a 44-token prompt has enough of them to select among.
kvcache::PolicyConfig small_cluster_config() {
  kvcache::PolicyConfig c;
  c.mpcache_cluster_size1 = 8;
  c.mpcache_cluster_size2 = 4;
  c.mpcache_dyn_ratio = 0.3;
  c.mpcache_static_ratio = 1.0;  // dynamic selection only: every prompt row stays cached
  c.mpcache_recent = 4;          // with static eviction, most kept rows are chosen by vote
  c.budget = kvcache::Budget{1.0, 16};
  return c;
}

struct PlainPolicyRun {
  std::vector<int> tokens;
  std::vector<model::Vector> logits;  // of every decode step
};

PlainPolicyRun plaintext_run(const std::string& policy_name, const kvcache::PolicyConfig& config) {
  model::Transformer engine(four_layer_weights());
  const auto policy = kvcache::make_policy(policy_name, config);
  PlainPolicyRun run;
  run.tokens.push_back(model::argmax(engine.prefill(prompt_tokens(), policy.get())));
  while (static_cast<int>(run.tokens.size()) < kNewTokens) {
    run.logits.push_back(engine.decode(run.tokens.back()));
    run.tokens.push_back(model::argmax(run.logits.back()));
  }
  return run;
}

double max_difference(const std::vector<model::Vector>& a, const std::vector<model::Vector>& b) {
  EXPECT_EQ(a.size(), b.size());
  double worst = 0;
  for (std::size_t i = 0; i < std::min(a.size(), b.size()); ++i) worst = std::max(worst, (a[i] - b[i]).cwiseAbs().maxCoeff());
  return worst;
}

struct PolicyRun {
  std::vector<int> tokens;                                  // P1's
  std::vector<model::Vector> logits;                        // of every decode step (opened for the test)
  std::map<std::string, net::ProfileFigures> last_step;     // P0's profile of the last decode step
  std::uint64_t last_step_rounds = 0;
};

PolicyRun secure_tokens(Backend backend, const std::string& policy_name, const kvcache::PolicyConfig& config) {
  const std::vector<int> prompt = prompt_tokens();
  PolicyRun run;
  std::mutex mutex;
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        const int self = mesh.self();
        SecureParty party(backend, mesh, four_layer_weights());
        protocols::Protocol& proto = party.proto();
        model::secure::SecureTransformer& engine = party.engine;
        protocols::ops::SecureOps ops(party.session);
        const auto policy = kvcache::make_secure_policy(policy_name, ops, config);
        engine.set_cache_policy(policy.get());
        std::vector<int> tokens;
        Share logits = engine.prefill(self == 1 ? prompt : std::vector<int>{}, kPromptLength);
        std::map<std::string, net::ProfileFigures> profile;
        std::vector<model::Vector> step_logits;
        std::uint64_t rounds = 0;
        for (int i = 0; i < kNewTokens; ++i) {
          const model::secure::NextToken next = engine.greedy_token(logits);
          if (next.token) tokens.push_back(*next.token);
          if (i + 1 == kNewTokens) break;
          mesh.profile().reset();
          const std::uint64_t before = mesh.stats().total().rounds;
          logits = engine.decode(next.one_hot);
          rounds = mesh.stats().total().rounds - before;
          profile = mesh.profile().classes();
          step_logits.push_back(proto.fixed_point().decode(proto.reveal(logits, protocols::kRevealToAll)).row(0));
        }
        std::lock_guard lock(mutex);
        if (self == 1) run.tokens = std::move(tokens);
        if (self == 0) {
          run.logits = std::move(step_logits);
          run.last_step = std::move(profile);
          run.last_step_rounds = rounds;
        }
      },
      test_support::test_mesh_options());
  return run;
}

class SecurePolicyTest : public ::testing::TestWithParam<Backend> {};

TEST_P(SecurePolicyTest, MpcacheGivesThePlaintextMpcacheTokens) {
  const kvcache::PolicyConfig config = small_cluster_config();
  const PolicyRun run = secure_tokens(GetParam(), "mpcache", config);
  const PlainPolicyRun plain = plaintext_run("mpcache", config);
  EXPECT_EQ(run.tokens, plain.tokens);
  const double error = max_difference(run.logits, plain.logits);
  std::printf("[mpcache %s] max |logit error| %.3g\n", protocols::to_string(GetParam()).c_str(), error);
  EXPECT_LT(error, kLogitBound);

  std::uint64_t rounds = 0;
  for (const auto& [name, figures] : run.last_step) rounds += figures.rounds;
  EXPECT_EQ(rounds, run.last_step_rounds);
  for (const char* expected : {kvcache::secure::kProfileSelectionBoxes, kvcache::secure::kProfileSelectionScores,
                               kvcache::secure::kProfileSelectionTopK, kvcache::secure::kProfileSelectionGather})
    EXPECT_TRUE(run.last_step.contains(expected)) << expected;
}

// A private prefill with MPCache's static eviction (secret votes, top-k and position-ordered
// compaction, kvcache/secure/secure_static_eviction.hpp) keeps the rows the plaintext policy keeps.
TEST_P(SecurePolicyTest, MpcacheWithStaticEvictionGivesThePlaintextMpcacheTokens) {
  kvcache::PolicyConfig config = small_cluster_config();
  config.mpcache_static_ratio = 0.6;  // 26 of the 44 prompt rows stay
  const PolicyRun run = secure_tokens(GetParam(), "mpcache", config);
  const PlainPolicyRun plain = plaintext_run("mpcache", config);
  EXPECT_EQ(run.tokens, plain.tokens);
  const double error = max_difference(run.logits, plain.logits);
  std::printf("[mpcache + static eviction %s] max |logit error| %.3g\n", protocols::to_string(GetParam()).c_str(), error);
  EXPECT_LT(error, kLogitBound);
}

// The selection must matter: attending every row (or another choice of rows) moves the logits far
// beyond the bound, so the test above could not pass by ignoring or mis-sharing the selection.
TEST(SecurePolicyReference, MpcacheSelectionChangesTheLogits) {
  const kvcache::PolicyConfig config = small_cluster_config();
  kvcache::PolicyConfig unshared = config;
  unshared.mpcache_share_interval = 1;
  const PlainPolicyRun mpcache = plaintext_run("mpcache", config);
  const double against_full = max_difference(mpcache.logits, plaintext_run("full", config).logits);
  const double against_unshared = max_difference(mpcache.logits, plaintext_run("mpcache", unshared).logits);
  kvcache::PolicyConfig evicting = config;
  evicting.mpcache_static_ratio = 0.6;
  const double against_static = max_difference(mpcache.logits, plaintext_run("mpcache", evicting).logits);
  std::printf("[mpcache reference] logits move by %.3g against the full cache, %.3g without sharing, %.3g with "
              "static eviction\n", against_full, against_unshared, against_static);
  EXPECT_GT(against_full, 5 * kLogitBound);
  EXPECT_GT(against_unshared, 5 * kLogitBound);
  EXPECT_GT(against_static, 5 * kLogitBound);
}

// P1's profile of a private prefill with `policy_name` on `weights`.
std::map<std::string, net::ProfileFigures> prefill_profile(Backend backend, const model::TransformerWeights& weights,
                                                           const std::string& policy_name,
                                                           const kvcache::PolicyConfig& config) {
  const std::vector<int> prompt = prompt_tokens();
  std::map<std::string, net::ProfileFigures> profile;
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        SecureParty party(backend, mesh, weights);
        model::secure::SecureTransformer& engine = party.engine;
        protocols::ops::SecureOps ops(party.session);
        const auto policy = kvcache::make_secure_policy(policy_name, ops, config);
        engine.set_cache_policy(policy.get());
        mesh.profile().reset();
        engine.prefill(mesh.self() == 1 ? prompt : std::vector<int>{}, kPromptLength);
        if (mesh.self() == 1) profile = mesh.profile().classes();
        // The 2PC dealer only sends: without this it may leave while P1 still reads its frames, and
        // its socket, holding P1's unread keep-alive beats, would reset the connection.
        if (mesh.self() == 1) mesh.send(2, net::Bytes{1});
        if (mesh.self() == 2) mesh.recv(1);
      },
      test_support::test_mesh_options());
  return profile;
}

// MPCache's prompt-time work on a private prefill (static eviction, then the boxes of the
// selecting layers) runs for every layer together: four layers cost the rounds of one.
TEST_P(SecurePolicyTest, PromptTimeWorkOfAllLayersTakesTheRoundsOfOne) {
  kvcache::PolicyConfig config = small_cluster_config();
  config.mpcache_static_ratio = 0.6;
  model::TransformerWeights one_layer = four_layer_weights();
  one_layer.config.layers = 1;
  one_layer.layers.resize(1);
  const auto four = prefill_profile(GetParam(), four_layer_weights(), "mpcache", config);
  const auto one = prefill_profile(GetParam(), one_layer, "mpcache", config);
  for (const char* work : {kvcache::secure::kProfileEviction, kvcache::secure::kProfileSelectionBoxes}) {
    ASSERT_TRUE(four.contains(work) && one.contains(work)) << work;
    EXPECT_GT(one.at(work).rounds, 0u) << work;
    EXPECT_EQ(four.at(work).rounds, one.at(work).rounds) << work;
    EXPECT_GT(four.at(work).online_bytes_sent, one.at(work).online_bytes_sent) << work;  // more layers, more data
  }
}

TEST_P(SecurePolicyTest, StreamingLlmGivesThePlaintextStreamingLlmTokens) {
  const kvcache::PolicyConfig config = small_cluster_config();
  const PolicyRun run = secure_tokens(GetParam(), "streamingllm", config);
  const PlainPolicyRun plain = plaintext_run("streamingllm", config);
  EXPECT_EQ(run.tokens, plain.tokens);
  EXPECT_LT(max_difference(run.logits, plain.logits), kLogitBound);
}

// Both forms take StreamingLLM's counts from one rule: a budget below the sinks clamps the sinks
// (at least one recent row stays), as the plaintext policy always did, instead of failing.
TEST_P(SecurePolicyTest, StreamingLlmClampsItsSinksLikeThePlaintextPolicy) {
  kvcache::PolicyConfig config = small_cluster_config();
  config.budget = kvcache::Budget{1.0, 3};
  config.sinks = 4;
  const PolicyRun run = secure_tokens(GetParam(), "streamingllm", config);
  const PlainPolicyRun plain = plaintext_run("streamingllm", config);
  EXPECT_EQ(run.tokens, plain.tokens);
  EXPECT_LT(max_difference(run.logits, plain.logits), kLogitBound);
}

// Quest's exact page bound and secret page choice (kvcache/secure/secure_quest.hpp) inside the
// engine: the pages plaintext Quest attends (budget 16 = 4 pages of 4 rows).
TEST_P(SecurePolicyTest, QuestGivesThePlaintextQuestTokens) {
  kvcache::PolicyConfig config = small_cluster_config();
  config.page_size = 4;
  const PolicyRun run = secure_tokens(GetParam(), "quest", config);
  const PlainPolicyRun plain = plaintext_run("quest", config);
  EXPECT_EQ(run.tokens, plain.tokens);
  EXPECT_LT(max_difference(run.logits, plain.logits), kLogitBound);
  EXPECT_TRUE(run.last_step.contains(kvcache::secure::kProfileSelectionTopK));
}

INSTANTIATE_TEST_SUITE_P(Backends, SecurePolicyTest,
                         ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return protocols::to_string(info.param); });

TEST(SecurePolicyFactory, RejectsAnUnknownName) {
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        protocols::Session session(Backend::ThreePartyReplicated, mesh, {.config = "x"});
        protocols::ops::SecureOps ops(session);
        EXPECT_THROW(kvcache::make_secure_policy("lru", ops, {}), std::invalid_argument);
        EXPECT_THROW(kvcache::make_secure_policy("keydiff", ops, {}), std::invalid_argument);  // no secure form
      },
      test_support::test_mesh_options());
}

}  // namespace
}  // namespace secure_model_test
