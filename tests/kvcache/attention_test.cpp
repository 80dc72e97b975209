#include "kvcache/attention.hpp"
#include "kvcache/selection_util.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace kvcache {
namespace {

using testing::row;
using testing::rows_of;

HeadCache three_rows() {
  HeadCache head;
  head.append(row({1, 0}), row({1, 0}), 0);
  head.append(row({0, 1}), row({0, 2}), 1);
  head.append(row({1, 1}), row({4, 4}), 2);
  return head;
}

TEST(DenseAttention, ZeroQueryAveragesValues) {
  const AttentionResult r = dense_attention(row({0, 0}), three_rows());
  EXPECT_NEAR(r.output[0], 5.0 / 3, 1e-12);
  EXPECT_NEAR(r.output[1], 6.0 / 3, 1e-12);
  EXPECT_NEAR(r.probs.sum(), 1.0, 1e-12);
}

TEST(DenseAttention, MatchesFormulaOnSubset) {
  const AttentionResult r = dense_attention(row({2, 0}), three_rows(), std::vector<int>{2, 1});
  // logits (in selection order): row 2 -> 2/sqrt2, row 1 -> 0
  const double e = std::exp(std::sqrt(2.0));
  EXPECT_NEAR(r.probs[0], e / (e + 1), 1e-12);
  EXPECT_NEAR(r.output[0], (4 * e + 0) / (e + 1), 1e-12);
  EXPECT_NEAR(r.output[1], (4 * e + 2) / (e + 1), 1e-12);
}

TEST(DenseAttention, RejectsBadInput) {
  EXPECT_THROW(dense_attention(row({1, 0, 0}), three_rows()), std::invalid_argument);
  EXPECT_THROW(dense_attention(row({1, 0}), three_rows(), std::vector<int>{}), std::invalid_argument);
  EXPECT_THROW(dense_attention(row({1, 0}), three_rows(), std::vector<int>{3}), std::out_of_range);
}

TEST(CausalAttentionProbs, MasksFutureKeys) {
  const FloatMatrix keys = rows_of({{0, 0}, {0, 0}, {0, 0}});
  const FloatMatrix probs = causal_attention_probs(rows_of({{1, 1}, {1, 1}}), {0, 2}, keys, {0, 1, 2});
  EXPECT_DOUBLE_EQ(probs(0, 0), 1.0);
  EXPECT_DOUBLE_EQ(probs(0, 1), 0.0);
  EXPECT_NEAR(probs(1, 2), 1.0 / 3, 1e-12);
}

TEST(SelectionUtil, TopKBreaksTiesTowardsLowerIndex) {
  EXPECT_EQ(top_k({1, 3, 3, 0, 3}, 2), (std::vector<int>{1, 2}));
  EXPECT_EQ(bottom_k({1, 3, 3, 0, 3}, 2), (std::vector<int>{0, 3}));
  EXPECT_EQ(top_k({1, 2}, 5), (std::vector<int>{0, 1}));
  EXPECT_EQ(merge_sorted({0, 2}, {1, 2, 5}), (std::vector<int>{0, 1, 2, 5}));
}

TEST(SelectionUtil, Pooling) {
  EXPECT_EQ(pool_1d({0, 3, 0, 0, 6}, 3, "max"), (std::vector<double>{3, 3, 3, 6, 6}));
  EXPECT_EQ(pool_1d({0, 3, 0, 0, 6}, 3, "avg"), (std::vector<double>{1.5, 1, 1, 2, 3}));
  EXPECT_THROW(pool_1d({1}, 2, "max"), std::invalid_argument);
  EXPECT_THROW(pool_1d({1}, 3, "median"), std::invalid_argument);
}

}  // namespace
}  // namespace kvcache
