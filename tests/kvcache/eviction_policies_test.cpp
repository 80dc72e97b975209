// StreamingLLM, H2O, TOVA and KeyDiff on small hand-checked cases.
#include "kvcache/h2o.hpp"
#include "kvcache/keydiff.hpp"
#include "kvcache/streaming_llm.hpp"
#include "kvcache/tova.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

namespace kvcache {
namespace {

using testing::FakeEngine;
using testing::one_row;
using testing::row;
using testing::rows_of;

const ModelShape kOneHead{1, 1, 1, 2};

FloatMatrix zeros(int n, int d = 2) { return FloatMatrix::Zero(n, d); }

PolicyConfig budget_of(int tokens) {
  PolicyConfig config;
  config.budget = Budget{1.0, tokens};
  return config;
}

TEST(StreamingLlm, KeepsSinksAndRecentWindowInsideBudget) {
  PolicyConfig config = budget_of(6);
  config.sinks = 2;
  StreamingLlmPolicy policy(config);
  FakeEngine engine(policy, kOneHead, 10);
  engine.prefill(0, {zeros(10)}, {zeros(10)}, {zeros(10)});
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 1, 6, 7, 8, 9}));
  engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({0, 0})}, 10);
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 1, 7, 8, 9, 10}));
}

TEST(StreamingLlm, WindowOutsideBudgetAddsSinks) {
  PolicyConfig config = budget_of(4);
  config.sinks = 2;
  config.window_outside_budget = true;
  StreamingLlmPolicy policy(config);
  FakeEngine engine(policy, kOneHead, 10);
  engine.prefill(0, {zeros(10)}, {zeros(10)}, {zeros(10)});
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 1, 6, 7, 8, 9}));
}

// With all-zero queries, prompt query i spreads 1/(i+1) over keys 0..i, so key j collects
// H(n) - H(j) where H is the harmonic number: earlier keys are heavier.
double harmonic(int n) {
  double h = 0;
  for (int i = 1; i <= n; ++i) h += 1.0 / i;
  return h;
}

TEST(H2o, PrefillKeepsHeavyHittersPlusRecentThenEvictsLowestOutsideWindow) {
  PolicyConfig config = budget_of(4);
  config.recent_window = 2;
  H2oPolicy policy(config);
  FakeEngine engine(policy, kOneHead, 8);
  engine.prefill(0, {zeros(8)}, {zeros(8)}, {zeros(8)});
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 1, 6, 7}));
  EXPECT_NEAR(policy.scores(0, 0)[0], harmonic(8), 1e-12);
  EXPECT_NEAR(policy.scores(0, 0)[2], harmonic(8) - harmonic(6), 1e-12);

  // Decode: the new key (position 8) is orthogonal to the zero query, so attention is uniform
  // (0.2 each). Candidates outside the recent window {7, 8}: positions 0, 1, 6 -> 6 is lightest.
  engine.decode(0, {row({1, 0})}, {row({0, 0})}, {one_row({0, 0})}, 8);
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 1, 7, 8}));
  EXPECT_NEAR(policy.scores(0, 0)[2], 1.0 / 8 + 0.2, 1e-12);  // position 7
  EXPECT_NEAR(policy.scores(0, 0)[3], 0.2, 1e-12);            // position 8
}

TEST(H2o, AccumulatesObservedAttentionAcrossGroupHeads) {
  // Two query heads share one kv head: both heads' probabilities accumulate into the same rows.
  const ModelShape shape{1, 2, 1, 2};
  PolicyConfig config = budget_of(3);
  config.recent_window = 1;
  H2oPolicy policy(config);
  FakeEngine engine(policy, shape, 3);
  engine.prefill(0, {zeros(3)}, {zeros(3)}, {zeros(3), zeros(3)});  // nothing evicted (3 <= 3)
  // Prefill scores (two heads): 2 * (H(3) - H(j)) = {3.67, 1.67, 0.67}. The new key is large along
  // x: head 0 (query +x) puts ~0.997 on it, head 1 (query -x) ~1/3 on each prompt row. Position 3
  // is the recent window; of the prompt rows position 2 stays lightest (~1.0 vs ~2.0 and ~4.0).
  engine.decode(0, {row({10, 0})}, {row({0, 0})}, {one_row({1, 0}), one_row({-1, 0})}, 3);
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 1, 3}));
}

TEST(Tova, PrefillKeepsTopRowsOfLastQuery) {
  TovaPolicy policy(budget_of(3));
  FakeEngine engine(policy, kOneHead, 5);
  const FloatMatrix keys = rows_of({{1, 0}, {0, 1}, {-1, 0}, {0, -1}, {1, 0}});
  const FloatMatrix queries = rows_of({{0, 0}, {0, 0}, {0, 0}, {0, 0}, {4, 0}});
  engine.prefill(0, {keys}, {zeros(5)}, {queries});
  // Last query scores: rows 0 and 4 highest, rows 1 and 3 tie (lower index wins), row 2 lowest.
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 1, 4}));
}

TEST(Tova, EvictsLowestGroupAveragedAttention) {
  const ModelShape shape{1, 2, 1, 2};
  TovaPolicy policy(budget_of(3));
  policy.begin(shape, 3);
  LayerCache cache;
  cache.heads.resize(1);
  for (int i = 0; i < 4; ++i) cache.heads[0].append(row({0, 0}), row({0, 0}), i);
  // Group mean: {0.2, 0.2, 0.15, 0.45} -> row 2 goes.
  policy.on_attention(0, {row({0.1, 0.4, 0.2, 0.3}), row({0.3, 0.0, 0.1, 0.6})}, Selection::all(1), cache);
  EXPECT_EQ(cache.heads[0].positions, (std::vector<int>{0, 1, 3}));
}

TEST(KeyDiff, KeepsMostDistinctKeysBesidesSinksAndRecent) {
  PolicyConfig config = budget_of(4);
  config.sinks = 1;
  config.recent_window = 1;
  KeyDiffPolicy policy(config);
  FakeEngine engine(policy, kOneHead, 8);
  const FloatMatrix keys = rows_of({{1, 0}, {1, 0}, {0, 1}, {1, 0}, {-1, 0}, {2, 0}, {1, 0}, {1, 0}});
  engine.prefill(0, {keys}, {zeros(8)}, {zeros(8)});
  // Anchor = mean of unit keys = (0.625, 0.125): cosine of (0,1) ~ 0.196, of (-1,0) ~ -0.98,
  // of (1,0) ~ 0.98 -> the middle keeps rows 2 and 4.
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 2, 4, 7}));
  // Append (0,-1): unit keys (1,0),(0,1),(-1,0),(1,0),(0,-1) -> anchor (0.2, 0); cosines 1,0,-1,1,0.
  // Middle rows (positions 2, 4, 7) keep the two lowest: positions 4 (-1) and 2 (0).
  engine.decode(0, {row({0, -1})}, {row({0, 0})}, {one_row({0, 0})}, 8);
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 2, 4, 8}));
}

TEST(KeyDiff, SimilarityOfZeroKeyIsZero) {
  const std::vector<double> s = keydiff_similarity(rows_of({{0, 0}, {3, 0}}));
  EXPECT_DOUBLE_EQ(s[0], 0.0);
  EXPECT_DOUBLE_EQ(s[1], 1.0);
}

}  // namespace
}  // namespace kvcache
