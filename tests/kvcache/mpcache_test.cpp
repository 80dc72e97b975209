#include "kvcache/mpcache_policy.hpp"
#include "kvcache/selection_util.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

#include <random>

namespace kvcache {
namespace {

using testing::FakeEngine;
using testing::one_row;
using testing::row;

// Keys along x with these values per row (y = 0).
FloatMatrix x_keys(const std::vector<double>& xs) {
  FloatMatrix keys = FloatMatrix::Zero(static_cast<Eigen::Index>(xs.size()), 2);
  for (std::size_t i = 0; i < xs.size(); ++i) keys(static_cast<Eigen::Index>(i), 0) = xs[i];
  return keys;
}

// Level-1 clusters of 4 rows, level-2 of 2 rows (cluster = 4 rows, child = 2 rows):
//   c0 {0,0,0,0} score 0          children 0: 0, 1: 0
//   c1 {1,1,1,1} score 1          children 2: 1, 3: 1
//   c2 {3,3,2,2} 0.6*3+0.4*2=2.6  children 4: 3, 5: 2
//   c3 {4,4,-1,-1} 2.4-0.4=2.0    children 6: 4, 7: -1
//   c4 {5,5,-100,-100} -37        children 8: 5 (best child overall, but its parent loses), 9: -100
//   c5 {.5,.5,.5,.5} 0.5          children 10, 11: 0.5
const std::vector<double> kClusterCase = {0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 2, 2, 4, 4, -1, -1,
                                          5, 5, -100, -100, 0.5, 0.5, 0.5, 0.5};

PolicyConfig small_clusters() {
  PolicyConfig config;
  config.mpcache_cluster_size1 = 4;
  config.mpcache_cluster_size2 = 2;
  config.mpcache_level1_ratio = 0.5;
  config.mpcache_dyn_ratio = 0.25;
  config.mpcache_static_ratio = 1.0;
  return config;
}

TEST(MpcacheClusters, HierarchicalSelectionFollowsChosenParents) {
  ClusterBoxes level1(4), level2(2);
  const FloatMatrix keys = x_keys(kClusterCase);
  level1.update(keys);
  level2.update(keys);
  // Level 1: top floor(6 * 0.5) = 3 -> c2, c3, c1; plus first and newest -> {0, 1, 2, 3, 5}.
  // Level 2: top floor(12 * 0.25) = 3 among their children -> 6 (4), 4 (3), 5 (2); plus 0 and 11.
  EXPECT_EQ(mpcache_select_clusters({row({1, 0})}, level1, level2, small_clusters()),
            (std::vector<int>{0, 4, 5, 6, 11}));
}

TEST(MpcacheClusters, BoxesUpdateIncrementallyLikeARebuild) {
  std::mt19937 rng(11);
  std::normal_distribution<double> normal;
  FloatMatrix keys(0, 3);
  ClusterBoxes incremental(4);
  for (int n = 1; n <= 19; ++n) {
    keys.conservativeResize(n, Eigen::NoChange);
    for (int c = 0; c < 3; ++c) keys(n - 1, c) = normal(rng);
    const FloatMatrix before_max = incremental.max();
    incremental.update(keys);
    ClusterBoxes rebuilt(4);
    rebuilt.update(keys);
    ASSERT_EQ(incremental.max(), rebuilt.max());
    ASSERT_EQ(incremental.min(), rebuilt.min());
    // Only the newest cluster may change.
    const Eigen::Index settled = std::min<Eigen::Index>(before_max.rows(), (n - 1) / 4);
    EXPECT_EQ(incremental.max().topRows(settled), before_max.topRows(settled));
  }
  EXPECT_EQ(incremental.rows_of(4), (std::vector<int>{16, 17, 18}));
  EXPECT_THROW(incremental.update(keys.topRows(3)), std::logic_error);
}

TEST(Mpcache, DecodeStepSelectsClustersAtTokenGranularity) {
  MpcachePolicy policy(small_clusters());
  FakeEngine engine(policy, ModelShape{1, 1, 1, 2}, 24);
  const FloatMatrix keys = x_keys(kClusterCase);
  engine.prefill(0, {keys}, {FloatMatrix::Zero(24, 2)}, {FloatMatrix::Zero(24, 2)});
  ASSERT_EQ(engine.layer(0).heads[0].size(), 24);  // static ratio 1: nothing evicted
  // 25 rows: 7 level-1 clusters (top 3 + first + newest c6), 13 level-2 (top 3 + 0 + newest 12).
  // The newest level-2 cluster holds only row 24, so it is padded with row 23 (the last size2 = 2
  // tokens always attend).
  engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({1, 0})}, 24);
  EXPECT_EQ(*engine.last_selection().rows[0], (std::vector<int>{0, 1, 8, 9, 10, 11, 12, 13, 23, 24}));
}

TEST(Mpcache, StaticEvictionIsSharedAcrossHeadsAndKeepsSinksAndWindow) {
  PolicyConfig config;
  config.sinks = 1;
  config.mpcache_static_ratio = 0.5;       // 5 of 10 tokens
  config.mpcache_observation_ratio = 0.2;  // window of 2
  MpcachePolicy policy(config);
  const ModelShape shape{1, 2, 2, 2};
  FakeEngine engine(policy, shape, 10);
  // Head 0 favours row 3, head 1 favours row 6; the head average keeps both.
  FloatMatrix keys0 = FloatMatrix::Zero(10, 2), keys1 = FloatMatrix::Zero(10, 2);
  keys0(3, 0) = 8;
  keys1(6, 0) = 8;
  FloatMatrix queries = FloatMatrix::Zero(10, 2);
  queries.col(0).setOnes();
  engine.prefill(0, {keys0, keys1}, {FloatMatrix::Zero(10, 2), FloatMatrix::Zero(10, 2)}, {queries, queries});
  EXPECT_EQ(policy.static_capacity(), 5);
  for (int g = 0; g < 2; ++g) EXPECT_EQ(engine.layer(0).heads[g].positions, (std::vector<int>{0, 3, 6, 8, 9}));
  // Generated tokens are never statically evicted.
  for (int p = 10; p < 14; ++p) {
    engine.decode(0, {row({0, 0}), row({0, 0})}, {row({0, 0}), row({0, 0})}, {one_row({1, 0}), one_row({1, 0})}, p);
  }
  EXPECT_EQ(engine.layer(0).heads[0].size(), 9);
}

TEST(Mpcache, SharingSchedule) {
  PolicyConfig config;  // interval 2, first two layers skip
  const std::vector<bool> expected = {true, true, true, false, true, false, true};
  for (int l = 0; l < 7; ++l) EXPECT_EQ(mpcache_selects_itself(l, config), expected[l]) << "layer " << l;
  config.mpcache_share_interval = 3;
  EXPECT_TRUE(mpcache_selects_itself(2, config));
  EXPECT_FALSE(mpcache_selects_itself(3, config));
  EXPECT_FALSE(mpcache_selects_itself(4, config));
  EXPECT_TRUE(mpcache_selects_itself(5, config));
}

TEST(Mpcache, OddLayerReusesPreviousLayerSelection) {
  MpcachePolicy policy(small_clusters());
  const ModelShape shape{4, 1, 1, 2};
  FakeEngine engine(policy, shape, 24);
  // Layer 3's own keys would favour the opposite clusters; it must reuse layer 2's choice.
  std::vector<double> reversed(kClusterCase.rbegin(), kClusterCase.rend());
  for (int l = 0; l < 4; ++l) {
    const FloatMatrix keys = x_keys(l == 3 ? reversed : kClusterCase);
    engine.prefill(l, {keys}, {FloatMatrix::Zero(24, 2)}, {FloatMatrix::Zero(24, 2)});
  }
  std::vector<std::vector<int>> selected;
  for (int l = 0; l < 4; ++l) {
    engine.decode(l, {row({0, 0})}, {row({0, 0})}, {one_row({1, 0})}, 24);
    selected.push_back(*engine.last_selection().rows[0]);
  }
  EXPECT_EQ(selected[2], (std::vector<int>{0, 1, 8, 9, 10, 11, 12, 13, 23, 24}));
  EXPECT_EQ(selected[3], selected[2]);
}

TEST(Mpcache, ReuseMapsByPositionWhenLayersKeptDifferentTokens) {
  PolicyConfig config = small_clusters();
  config.mpcache_share_skip_layers = 0;  // layer 0 selects, layer 1 reuses
  MpcachePolicy policy(config);
  FakeEngine engine(policy, ModelShape{2, 1, 1, 2}, 24);
  for (int l = 0; l < 2; ++l) {
    engine.prefill(l, {x_keys(kClusterCase)}, {FloatMatrix::Zero(24, 2)}, {FloatMatrix::Zero(24, 2)});
  }
  engine.layer(1).heads[0].keep(index_range(8, 24));
  engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({1, 0})}, 24);
  engine.decode(1, {row({0, 0})}, {row({0, 0})}, {one_row({1, 0})}, 24);
  // Layer 1 holds positions 8..23 and 24 (rows 0..16): the reused positions 8..13, 23 and 24.
  EXPECT_EQ(*engine.last_selection().rows[0], (std::vector<int>{0, 1, 2, 3, 4, 5, 15, 16}));
}

}  // namespace
}  // namespace kvcache
