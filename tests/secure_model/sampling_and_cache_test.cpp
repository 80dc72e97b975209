// Two entry points of the secure engine beyond greedy generation, both backends over real TLS:
//  - sampling with the user's secret Gumbel noise equals the plaintext Gumbel-max draw with the
//    same noise, and only P1 learns the tokens;
//  - decoding from a cache adopted from a plaintext prefill (the long-context benchmark's start)
//    gives the plaintext decode logits, and the per-operator profile accounts for every round.
#include "tests/support/session_options.hpp"
#include "tests/secure_model/secure_run.hpp"

#include "model/gumbel_sampling.hpp"
#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "model/transformer.hpp"
#include "protocols/session.hpp"
#include "tests/support/party_harness.hpp"

#include <gtest/gtest.h>

#include <mutex>
#include <optional>

namespace secure_model_test {
namespace {

using protocols::Backend;
using protocols::Share;

constexpr double kTemperature = 0.7;
constexpr std::uint64_t kNoiseSeed = 9;
// Same bound as the greedy test on this model (measured error ~1.2e-3).
constexpr double kTinyLogitBound = 1e-2;

const model::TransformerWeights& tiny_weights() {
  static const model::TransformerWeights weights = model::load_weights(tiny_model_dir());
  return weights;
}

std::vector<int> plaintext_sampled(const std::vector<int>& prompt, int new_tokens) {
  model::Transformer engine(tiny_weights());
  model::GumbelNoise noise(model::GumbelNoise::seed_from(kNoiseSeed));
  const int vocab = tiny_weights().config.vocab_size;
  std::vector<int> tokens{model::gumbel_max_token(engine.prefill(prompt), kTemperature, noise.next(vocab))};
  while (static_cast<int>(tokens.size()) < new_tokens)
    tokens.push_back(model::gumbel_max_token(engine.decode(tokens.back()), kTemperature, noise.next(vocab)));
  return tokens;
}

class SecureSamplingTest : public ::testing::TestWithParam<Backend> {};

TEST_P(SecureSamplingTest, UserNoiseGivesThePlaintextGumbelMaxTokensToP1Only) {
  const std::vector<int> prompt{5, 17, 42, 3, 60, 11};
  constexpr int kNewTokens = 6;
  const model::ModelConfig& config = tiny_weights().config;
  std::array<std::vector<int>, kParties> learnt;
  std::mutex mutex;
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        const int self = mesh.self();
        SecureParty party(GetParam(), mesh, tiny_weights());
        model::secure::SecureTransformer& engine = party.engine;
        std::optional<model::GumbelNoise> noise;
        if (self == 1) noise.emplace(model::GumbelNoise::seed_from(kNoiseSeed));
        std::vector<int> tokens;
        Share logits = engine.prefill(self == 1 ? prompt : std::vector<int>{}, static_cast<int>(prompt.size()));
        for (int i = 0; i < kNewTokens; ++i) {
          const Eigen::RowVectorXd drawn = noise ? noise->next(config.vocab_size) : Eigen::RowVectorXd();
          const model::secure::NextToken next = engine.sampled_token(logits, kTemperature, noise ? &drawn : nullptr);
          if (next.token) tokens.push_back(*next.token);
          if (i + 1 < kNewTokens) logits = engine.decode(next.one_hot);
        }
        std::lock_guard lock(mutex);
        learnt[self] = std::move(tokens);
      },
      test_support::test_mesh_options());
  EXPECT_EQ(learnt[1], plaintext_sampled(prompt, kNewTokens));
  EXPECT_TRUE(learnt[0].empty());
  EXPECT_TRUE(learnt[2].empty());
}

// The sampled tokens must differ from greedy ones somewhere, or the test above would not show
// that the noise is used at all.
TEST(SamplingReference, NoiseChangesTheChoice) {
  const std::vector<int> prompt{5, 17, 42, 3, 60, 11};
  EXPECT_NE(plaintext_sampled(prompt, 6), run_plain(tiny_weights(), prompt, 6).tokens);
}

INSTANTIATE_TEST_SUITE_P(Backends, SecureSamplingTest,
                         ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return protocols::to_string(info.param); });

struct AdoptedRun {
  mpc::FloatMatrix logits;
  std::map<std::string, net::ProfileFigures> profile;  // P0's, for one decode step
  std::uint64_t step_rounds = 0;
};

AdoptedRun decode_from_adopted_cache(Backend backend, const std::vector<int>& prompt, int next_token) {
  const model::ModelConfig& config = tiny_weights().config;
  model::Transformer plain(tiny_weights());
  plain.prefill(prompt);
  const auto& cache = plain.cache();
  AdoptedRun run;
  std::mutex mutex;
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        const int self = mesh.self();
        SecureParty party(backend, mesh, tiny_weights());
        protocols::Protocol& proto = party.proto();
        model::secure::SecureTransformer& engine = party.engine;
        const int n = static_cast<int>(prompt.size());
        std::vector<std::vector<Share>> keys(config.layers), values(config.layers);
        for (int l = 0; l < config.layers; ++l)
          for (int g = 0; g < config.kv_heads; ++g) {
            const mpc::RingMatrix k = proto.fixed_point().encode(cache[l].heads[g].keys);
            const mpc::RingMatrix v = proto.fixed_point().encode(cache[l].heads[g].values);
            keys[l].push_back(proto.input(0, self == 0 ? &k : nullptr, n, config.head_dim));
            values[l].push_back(proto.input(0, self == 0 ? &v : nullptr, n, config.head_dim));
          }
        engine.adopt_cache(keys, values, n);
        mpc::RingMatrix one_hot = mpc::RingMatrix::Zero(1, config.vocab_size);
        one_hot(0, next_token) = 1;
        const Share token = proto.input(1, self == 1 ? &one_hot : nullptr, 1, config.vocab_size);
        mesh.profile().reset();
        const std::uint64_t rounds_before = mesh.stats().total().rounds;
        const Share logits = engine.decode(token);
        const std::uint64_t step_rounds = mesh.stats().total().rounds - rounds_before;
        const auto profile = mesh.profile().classes();
        const mpc::RingMatrix opened = proto.reveal(logits, protocols::kRevealToAll);
        if (self != 0) return;
        std::lock_guard lock(mutex);
        run.logits = proto.fixed_point().decode(opened);
        run.profile = profile;
        run.step_rounds = step_rounds;
      },
      test_support::test_mesh_options());
  return run;
}

class AdoptedCacheTest : public ::testing::TestWithParam<Backend> {};

TEST_P(AdoptedCacheTest, DecodeFromAPlaintextPrefilledCacheMatchesPlaintextDecode) {
  const std::vector<int> prompt{5, 17, 42, 3, 60, 11, 7, 8, 9};
  constexpr int kNextToken = 23;
  model::Transformer plain(tiny_weights());
  plain.prefill(prompt);
  const model::Vector expected = plain.decode(kNextToken);
  const AdoptedRun run = decode_from_adopted_cache(GetParam(), prompt, kNextToken);
  const double error = (run.logits.row(0) - expected).cwiseAbs().maxCoeff();
  std::printf("[adopted cache %s] max |logit error| %.3g\n", protocols::to_string(GetParam()).c_str(), error);
  EXPECT_LT(error, kTinyLogitBound);

  // Every round of the step happens inside a profiled operator class (the new K and V rows join
  // the cache in the round of the scores).
  std::uint64_t rounds = 0;
  for (const auto& [name, figures] : run.profile) rounds += figures.rounds;
  EXPECT_EQ(rounds, run.step_rounds);
  for (const char* expected_class : {"embedding", "norm", "linear", "attention.scores", "attention.softmax",
                                     "attention.values", "activation", "logits"})
    EXPECT_TRUE(run.profile.contains(expected_class)) << expected_class;
  EXPECT_GT(run.profile.at("attention.softmax").rounds, run.profile.at("attention.scores").rounds);
}

INSTANTIATE_TEST_SUITE_P(Backends, AdoptedCacheTest,
                         ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return protocols::to_string(info.param); });

TEST(AdoptCache, RejectsAWrongShape) {
  // Shape checks happen before any communication, so a local mesh-free check is enough: a
  // wrong head count must be refused with a message naming the problem.
  const model::ModelConfig& config = tiny_weights().config;
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        SecureParty party(Backend::ThreePartyReplicated, mesh, tiny_weights());
        model::secure::SecureTransformer& engine = party.engine;
        std::vector<std::vector<Share>> too_few(config.layers);
        EXPECT_THROW(engine.adopt_cache(too_few, too_few, 4), std::invalid_argument);
      },
      test_support::test_mesh_options());
}

}  // namespace
}  // namespace secure_model_test
