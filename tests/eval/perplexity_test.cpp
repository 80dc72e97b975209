#include "eval/budget_mapping.hpp"
#include "eval/metered_policy.hpp"
#include "eval/perplexity.hpp"
#include "kvcache/registry/policy_registry.hpp"
#include "model/generation.hpp"
#include "tiny_model.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

std::vector<int> random_document(int length, int vocab, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<int> tokens(length);
  for (int& t : tokens) t = static_cast<int>(rng() % vocab);
  return tokens;
}

// Mean NLL of document[prompt..] from one dense forward pass over the whole document.
double reference_mean_nll(const model::Transformer& engine, const std::vector<int>& document, int prompt) {
  const std::span<const int> all(document);
  const mpc::FloatMatrix logits = engine.forward_all(all.first(document.size() - 1));
  double sum = 0.0;
  for (std::size_t i = prompt; i < document.size(); ++i) sum += eval::token_nll(logits.row(i - 1), document[i]);
  return sum / static_cast<double>(document.size() - prompt);
}

class PerplexityTest : public ::testing::Test {
 protected:
  model::TransformerWeights weights = eval_test::tiny_weights();
  model::Transformer engine{weights};
  std::vector<int> document = random_document(100, 64, 5);
  static constexpr int kPrompt = 60;

  double perplexity_with(const std::string& policy, double budget) {
    auto p = kvcache::make_policy(policy, eval::config_for_budget(policy, {}, budget));
    return eval::continuation_nll(engine, document, kPrompt, p.get()).perplexity();
  }
};

TEST(TokenNll, IsTheNegativeLogSoftmax) {
  Eigen::RowVectorXd logits(2);
  logits << 0.0, std::log(3.0);
  EXPECT_NEAR(eval::token_nll(logits, 1), std::log(4.0 / 3.0), 1e-12);
  EXPECT_NEAR(eval::token_nll(logits, 0), std::log(4.0), 1e-12);
  logits << 1000.0, 1000.0;  // stable for large logits
  EXPECT_NEAR(eval::token_nll(logits, 0), std::log(2.0), 1e-12);
  EXPECT_THROW(eval::token_nll(logits, 2), std::out_of_range);
}

TEST_F(PerplexityTest, FullCacheEqualsExpOfMeanNllFromForwardAll) {
  const double expected = std::exp(reference_mean_nll(engine, document, kPrompt));
  const eval::NllSum without_policy = eval::continuation_nll(engine, document, kPrompt, nullptr);
  EXPECT_EQ(without_policy.tokens, 40);
  EXPECT_NEAR(without_policy.perplexity() / expected, 1.0, 1e-9);
  auto full = kvcache::make_policy("full", {});
  EXPECT_NEAR(eval::continuation_nll(engine, document, kPrompt, full.get()).perplexity() / expected, 1.0, 1e-9);
}

TEST_F(PerplexityTest, FullBudgetOfPrefillOnlyPoliciesGivesTheFullCachePerplexity) {
  // These policies evict only at prefill (or prune nothing at sparsity 0): a 100% budget keeps
  // every row, so the result must be the full cache's.
  const double full = eval::continuation_nll(engine, document, kPrompt, nullptr).perplexity();
  for (const std::string policy : {"snapkv", "rpc", "mpcache", "mustafar"}) {
    SCOPED_TRACE(policy);
    EXPECT_NEAR(perplexity_with(policy, 1.0) / full, 1.0, 1e-9);
  }
}

TEST_F(PerplexityTest, SmallBudgetChangesThePerplexity) {
  const double full = eval::continuation_nll(engine, document, kPrompt, nullptr).perplexity();
  for (const std::string policy : {"streamingllm", "h2o", "snapkv", "mpcache"}) {
    SCOPED_TRACE(policy);
    EXPECT_GT(std::abs(perplexity_with(policy, 0.1) / full - 1.0), 1e-6);
  }
}

TEST_F(PerplexityTest, TeacherForcedArgmaxesReproduceTheGreedyGenerationUnderAPolicy) {
  // The needle task relies on this: scoring a greedy continuation by teacher forcing yields
  // exactly that continuation as the argmax sequence.
  const std::span<const int> prompt = std::span<const int>(document).first(kPrompt);
  auto policy = kvcache::make_policy("h2o", eval::config_for_budget("h2o", {}, 0.2));
  model::GenerationOptions options;
  options.max_new_tokens = 12;
  const std::vector<int> greedy = model::generate(engine, prompt, options, policy.get()).tokens;
  std::vector<int> sequence(prompt.begin(), prompt.end());
  sequence.insert(sequence.end(), greedy.begin(), greedy.end());
  std::vector<int> predictions;
  auto fresh = kvcache::make_policy("h2o", eval::config_for_budget("h2o", {}, 0.2));
  eval::continuation_nll(engine, sequence, kPrompt, fresh.get(), &predictions);
  EXPECT_EQ(predictions, greedy);
}

TEST_F(PerplexityTest, RejectsPromptsThatLeaveNothingToScore) {
  EXPECT_THROW(eval::continuation_nll(engine, document, 0, nullptr), std::invalid_argument);
  EXPECT_THROW(eval::continuation_nll(engine, document, 100, nullptr), std::invalid_argument);
  const std::vector<int> too_long = random_document(200, 64, 1);
  EXPECT_THROW(eval::continuation_nll(engine, too_long, 100, nullptr), std::invalid_argument);
}

TEST_F(PerplexityTest, MeteredPolicyMeasuresAttendedAndCachedRows) {
  auto full = kvcache::make_policy("full", {});
  eval::MeteredPolicy metered_full(*full);
  eval::continuation_nll(engine, document, kPrompt, &metered_full);
  // 39 decode steps with 61..99 cached rows, all attended.
  EXPECT_EQ(metered_full.usage().decode_steps, 39);
  EXPECT_DOUBLE_EQ(metered_full.usage().cached_rows, 80.0);
  EXPECT_DOUBLE_EQ(metered_full.usage().attended_rows, 80.0);

  auto streaming = kvcache::make_policy("streamingllm", eval::config_for_budget("streamingllm", {}, 0.1));
  eval::MeteredPolicy metered_streaming(*streaming);
  const double wrapped = eval::continuation_nll(engine, document, kPrompt, &metered_streaming).perplexity();
  EXPECT_DOUBLE_EQ(metered_streaming.usage().attended_rows, 6.0);  // round(0.1 * 60), kept at every step
  EXPECT_EQ(metered_streaming.name(), "streamingllm");
  // Wrapping changes nothing in the policy's decisions.
  EXPECT_DOUBLE_EQ(wrapped, perplexity_with("streamingllm", 0.1));
}

}  // namespace
