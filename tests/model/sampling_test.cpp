#include "model/generation.hpp"
#include "model/sampling.hpp"

#include <gtest/gtest.h>

#include <array>

namespace {

using model::Sampler;
using model::SamplingOptions;

TEST(Sampler, GreedyPicksTheArgmax) {
  Eigen::RowVectorXd logits(5);
  logits << 0.1, 3.0, -2.0, 2.9, 0.0;
  Sampler greedy(SamplingOptions{});
  EXPECT_EQ(greedy.next(logits), 1);
  Sampler top1(SamplingOptions{1.5, 1, 9});
  for (int i = 0; i < 20; ++i) EXPECT_EQ(top1.next(logits), 1);
}

TEST(Sampler, SeededSamplingIsReproducibleAndFollowsTheDistribution) {
  Eigen::RowVectorXd logits(4);
  logits << std::log(0.5), std::log(0.3), std::log(0.2), -1e9;
  Sampler a(SamplingOptions{1.0, 0, 123}), b(SamplingOptions{1.0, 0, 123});
  std::array<int, 4> counts{};
  const int draws = 20000;
  for (int i = 0; i < draws; ++i) {
    const int token = a.next(logits);
    ASSERT_EQ(token, b.next(logits));
    ++counts[token];
  }
  EXPECT_NEAR(counts[0] / double(draws), 0.5, 0.02);
  EXPECT_NEAR(counts[1] / double(draws), 0.3, 0.02);
  EXPECT_NEAR(counts[2] / double(draws), 0.2, 0.02);
  EXPECT_EQ(counts[3], 0);
}

TEST(Sampler, TopKAndTemperatureRestrictTheChoice) {
  Eigen::RowVectorXd logits(4);
  logits << 1.0, 0.9, 0.8, 0.7;
  Sampler top2(SamplingOptions{1.0, 2, 5});
  for (int i = 0; i < 200; ++i) EXPECT_LT(top2.next(logits), 2);
  Sampler cold(SamplingOptions{1e-3, 0, 5});
  for (int i = 0; i < 50; ++i) EXPECT_EQ(cold.next(logits), 0);
}

TEST(Sampler, RejectsInvalidOptions) {
  EXPECT_THROW(Sampler(SamplingOptions{-1.0, 0, 0}), std::invalid_argument);
  EXPECT_THROW(Sampler(SamplingOptions{1.0, -3, 0}), std::invalid_argument);
  EXPECT_THROW(model::argmax(Eigen::RowVectorXd()), std::invalid_argument);
}

model::ModelConfig tiny_gpt2() {
  model::ModelConfig c;
  c.vocab_size = 30;
  c.hidden_size = 16;
  c.layers = 2;
  c.heads = 2;
  c.kv_heads = 2;
  c.head_dim = 8;
  c.intermediate_size = 32;
  c.max_positions = 24;
  return c;
}

TEST(Generate, GreedyMatchesRecomputationAndRespectsLimits) {
  const auto weights = model::random_weights(tiny_gpt2(), 1, 0.5);
  model::Transformer engine(weights);
  const std::vector<int> prompt = {1, 2, 3, 4};
  model::GenerationOptions options;
  options.max_new_tokens = 8;
  const auto result = model::generate(engine, prompt, options);
  ASSERT_EQ(result.tokens.size(), 8u);
  EXPECT_EQ(result.decode_steps, 7);
  std::vector<int> sequence = prompt;
  for (int token : result.tokens) {
    EXPECT_EQ(token, model::argmax(engine.forward_all(sequence).bottomRows(1).row(0)));
    sequence.push_back(token);
  }
  options.stop_token = result.tokens[2];
  EXPECT_LE(model::generate(engine, prompt, options).tokens.size(), 3u);
  options.stop_token.reset();
  options.max_new_tokens = 100;
  EXPECT_EQ(model::generate(engine, prompt, options).tokens.size(), 21u);  // fills the 24-position context
  EXPECT_THROW(model::generate(engine, std::vector<int>(25, 1), options), std::out_of_range);
}

}  // namespace
