// SnapKV and PyramidKV on small hand-checked cases.
#include "kvcache/pyramidkv.hpp"
#include "kvcache/snapkv.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace kvcache {
namespace {

using testing::FakeEngine;
using testing::one_row;
using testing::row;

const ModelShape kOneHead{1, 1, 1, 2};

// Prefix keys are zero except row 2 = (10, 0); the window queries point along x, so row 2 gets by
// far the most votes and every other prefix row the same small vote.
std::vector<int> snapkv_positions(int kernel, const std::string& pooling, int budget = 4) {
  PolicyConfig config;
  config.budget = Budget{1.0, budget};
  config.observation_window = 2;
  config.pooling_kernel = kernel;
  config.pooling = pooling;
  SnapKvPolicy policy(config);
  FakeEngine engine(policy, kOneHead, 8);
  FloatMatrix keys = FloatMatrix::Zero(8, 2);
  keys(2, 0) = 10;
  FloatMatrix queries = FloatMatrix::Zero(8, 2);
  queries.col(0).setOnes();
  engine.prefill(0, {keys}, {FloatMatrix::Zero(8, 2)}, {queries});
  return engine.layer(0).heads[0].positions;
}

TEST(SnapKv, KeepsTopVotedPrefixPlusWindow) {
  // No pooling: row 2, then the tie among the rest goes to row 0.
  EXPECT_EQ(snapkv_positions(1, "max"), (std::vector<int>{0, 2, 6, 7}));
}

TEST(SnapKv, MaxPoolingSpreadsTheVoteToNeighbours) {
  // Pooled votes of rows 1, 2, 3 all equal row 2's: the two lowest of them are kept.
  EXPECT_EQ(snapkv_positions(3, "max"), (std::vector<int>{1, 2, 6, 7}));
}

TEST(SnapKv, AvgPoolingSpreadsTheVoteToNeighbours) {
  // Rows 1, 2, 3 average the peak with two small votes and beat every other row; budget 5 keeps
  // exactly those three (no tie to break among floating-point sums).
  EXPECT_EQ(snapkv_positions(3, "avg", 5), (std::vector<int>{1, 2, 3, 6, 7}));
}

TEST(SnapKv, DecodingDoesNotEvict) {
  PolicyConfig config;
  config.budget = Budget{1.0, 4};
  config.observation_window = 2;
  SnapKvPolicy policy(config);
  FakeEngine engine(policy, kOneHead, 8);
  engine.prefill(0, {FloatMatrix::Zero(8, 2)}, {FloatMatrix::Zero(8, 2)}, {FloatMatrix::Zero(8, 2)});
  ASSERT_EQ(engine.layer(0).heads[0].size(), 4);
  engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({0, 0})}, 8);
  EXPECT_EQ(engine.layer(0).heads[0].size(), 5);
}

TEST(PyramidKv, LayerBudgetsDecreaseLinearlyWithSameTotal) {
  PolicyConfig config;
  config.budget = Budget{1.0, 24};
  config.observation_window = 4;
  config.pyramid_beta = 4;
  // spread 20: from 2*20 - 5 = 35 down to 20/4 = 5, step 10; plus the window of 4.
  EXPECT_EQ(pyramid_layer_budgets(config, 4, 100), (std::vector<int>{39, 29, 19, 9}));
}

TEST(PyramidKv, RoundingRemainderGoesToLowerLayers) {
  PolicyConfig config;
  config.budget = Budget{1.0, 11};
  config.observation_window = 1;
  config.pyramid_beta = 3;
  // spread 10: 16.67, 10, 3.33 -> floors 16, 10, 3 (sum 29) -> +1 on layer 0; plus the window.
  const std::vector<int> budgets = pyramid_layer_budgets(config, 3, 100);
  EXPECT_EQ(budgets, (std::vector<int>{18, 11, 4}));
  EXPECT_EQ(std::accumulate(budgets.begin(), budgets.end(), 0), 3 * 11);
}

TEST(PyramidKv, EachLayerKeepsItsOwnBudget) {
  PolicyConfig config;
  config.budget = Budget{1.0, 6};
  config.observation_window = 2;
  config.pyramid_beta = 2;
  PyramidKvPolicy policy(config);
  const ModelShape shape{2, 1, 1, 2};
  FakeEngine engine(policy, shape, 20);
  // spread 4: layer 0 gets 8 - 2 = 6, layer 1 gets 2; plus the window of 2.
  EXPECT_EQ(policy.layer_budgets(), (std::vector<int>{8, 4}));
  for (int l = 0; l < 2; ++l) {
    engine.prefill(l, {FloatMatrix::Zero(20, 2)}, {FloatMatrix::Zero(20, 2)}, {FloatMatrix::Zero(20, 2)});
    EXPECT_EQ(engine.layer(l).heads[0].size(), policy.layer_budgets()[l]);
    EXPECT_EQ(engine.layer(l).heads[0].positions.back(), 19);  // the window stays
  }
}

}  // namespace
}  // namespace kvcache
