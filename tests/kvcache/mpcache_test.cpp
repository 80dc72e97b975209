// The plaintext MPCache policy: static eviction at prefill, the fixed-count cluster selection of
// kvcache/cluster_selection.hpp at every decode step, cross-layer sharing by cluster index. The
// expected selections are computed by hand in the comments.
#include "kvcache/cluster_boxes.hpp"
#include "kvcache/mpcache_policy.hpp"
#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/selection_util.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

namespace kvcache {
namespace {

using Indices = std::vector<int>;
using testing::FakeEngine;
using testing::one_row;
using testing::row;

// Keys along x with these values per row (y = 0).
FloatMatrix x_keys(const std::vector<double>& xs) {
  FloatMatrix keys = FloatMatrix::Zero(static_cast<Eigen::Index>(xs.size()), 2);
  for (std::size_t i = 0; i < xs.size(); ++i) keys(static_cast<Eigen::Index>(i), 0) = xs[i];
  return keys;
}

// Level-1 clusters of 4 rows, level-2 of 2 rows; scores with q = (1, 0) and alpha 0.6:
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

// One kv head, one query head of 2 dimensions: a decode step with key (x, 0) and query (1, 0).
void decode_one_head(FakeEngine& engine, int layer, double key_x, int position) {
  engine.decode(layer, {row({key_x, 0})}, {row({0, 0})}, {one_row({1, 0})}, position);
}

TEST(Mpcache, DecodeStepAttendsTheFixedCountClusterSelection) {
  MpcachePolicy policy(small_clusters());
  FakeEngine engine(policy, ModelShape{1, 1, 1, 2}, 24);
  engine.prefill(0, {x_keys(kClusterCase)}, {FloatMatrix::Zero(24, 2)}, {FloatMatrix::Zero(24, 2)});
  ASSERT_EQ(engine.layer(0).heads[0].size(), 24);  // static ratio 1: nothing evicted
  // 25 rows: C1 = 6, C2 = 12, tail = row 24. k1 = floor(6 * 0.5) = 3: c2, c3, c1. Candidates are
  // their children 2..7; k2 = min(floor(12 * 0.25), 3 * 2 - 0) = 3: 6, 4, 5. Forced: 0 and 11.
  decode_one_head(engine, 0, 0, 24);
  const ClusterSelection& chosen = policy.last_selection(0, 0);
  EXPECT_EQ(chosen.level1, (Indices{1, 2, 3}));
  EXPECT_EQ(chosen.level2, (Indices{4, 5, 6}));
  EXPECT_EQ(chosen.attending, (Indices{0, 4, 5, 6, 11}));
  EXPECT_EQ(*engine.last_selection().rows[0], (Indices{0, 1, 8, 9, 10, 11, 12, 13, 22, 23, 24}));
  EXPECT_EQ(engine.last_selection().rows[0]->size(), static_cast<std::size_t>(chosen.shape.attending_rows()));
}

TEST(Mpcache, SelectionIsTheReferenceSelectionOnTheCurrentCache) {
  // Random keys, two query heads per kv head: the policy must give exactly select_clusters on the
  // head's cache and the group's stacked query rows.
  std::mt19937 rng(5);
  std::normal_distribution<double> normal;
  const ModelShape shape{1, 4, 2, 3};
  PolicyConfig config = small_clusters();
  MpcachePolicy policy(config);
  FakeEngine engine(policy, shape, 40);
  auto random_matrix = [&](int rows) {
    FloatMatrix m(rows, shape.head_dim);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
    return m;
  };
  engine.prefill(0, {random_matrix(40), random_matrix(40)}, {random_matrix(40), random_matrix(40)},
                 {random_matrix(40), random_matrix(40), random_matrix(40), random_matrix(40)});
  for (int step = 0; step < 5; ++step) {
    std::vector<Eigen::RowVectorXd> keys = {random_matrix(1).row(0), random_matrix(1).row(0)};
    std::vector<FloatMatrix> query = {random_matrix(1), random_matrix(1), random_matrix(1), random_matrix(1)};
    engine.decode(0, keys, keys, query, 40 + step);
    for (int g = 0; g < 2; ++g) {
      FloatMatrix group_queries(2, shape.head_dim);
      group_queries << query[2 * g], query[2 * g + 1];
      const ClusterSelection expected =
          select_clusters(engine.layer(0).heads[g].keys, group_queries, ClusterSelectionParams::from(config));
      EXPECT_EQ(*engine.last_selection().rows[g], expected.rows) << "step " << step << " head " << g;
      EXPECT_EQ(policy.last_selection(0, g).attending, expected.attending);
    }
  }
}

TEST(Mpcache, TailRowsAttendAndTheLastCompleteClusterIsForcedAsTheCacheGrows) {
  MpcachePolicy policy(small_clusters());
  FakeEngine engine(policy, ModelShape{1, 1, 1, 2}, 24);
  engine.prefill(0, {x_keys(kClusterCase)}, {FloatMatrix::Zero(24, 2)}, {FloatMatrix::Zero(24, 2)});
  // The generated keys (x = 9) lie outside every complete level-1 cluster (C1 stays 6), so the
  // level-1 and level-2 choices stay c1, c2, c3 and 4, 5, 6; only the forced last cluster and the
  // tail move. k2 = min(floor(13 * 0.25), 3 * 2 - 0) = 3 at 26 and 27 rows as well.
  decode_one_head(engine, 0, 9, 24);  // 25 rows: C2 = 12, tail {24}
  EXPECT_EQ(*engine.last_selection().rows[0], (Indices{0, 1, 8, 9, 10, 11, 12, 13, 22, 23, 24}));
  decode_one_head(engine, 0, 9, 25);  // 26 rows: C2 = 13 (rows 24, 25), no tail
  EXPECT_EQ(policy.last_selection(0, 0).attending, (Indices{0, 4, 5, 6, 12}));
  EXPECT_EQ(*engine.last_selection().rows[0], (Indices{0, 1, 8, 9, 10, 11, 12, 13, 24, 25}));
  decode_one_head(engine, 0, 9, 26);  // 27 rows: C2 = 13, tail {26}
  EXPECT_EQ(policy.last_selection(0, 0).attending, (Indices{0, 4, 5, 6, 12}));
  EXPECT_EQ(*engine.last_selection().rows[0], (Indices{0, 1, 8, 9, 10, 11, 12, 13, 24, 25, 26}));
}

TEST(Mpcache, ShortCachesAttendEveryRowInEveryLayer) {
  PolicyConfig config;  // clusters of 32 / 16 rows: a 20-row cache has C2 = 1 < 3
  config.mpcache_static_ratio = 1.0;
  MpcachePolicy policy(config);
  FakeEngine engine(policy, ModelShape{4, 1, 1, 2}, 19);
  for (int l = 0; l < 4; ++l) {
    engine.prefill(l, {x_keys(std::vector<double>(19, 1.0))}, {FloatMatrix::Zero(19, 2)}, {FloatMatrix::Zero(19, 2)});
  }
  for (int l = 0; l < 4; ++l) {  // layer 3 reuses layer 2's (empty) choice
    decode_one_head(engine, l, 0, 19);
    EXPECT_EQ(*engine.last_selection().rows[0], index_range(0, 20)) << "layer " << l;
    EXPECT_FALSE(policy.last_selection(l, 0).shape.selects);
  }
}

// Prompt of 10 tokens, 1 sink, static ratio 0.5 (5 kept), observation window of the last 2 queries,
// the last 2 rows forced.
PolicyConfig static_eviction_config() {
  PolicyConfig config;
  config.sinks = 1;
  config.mpcache_recent = 2;
  config.mpcache_static_ratio = 0.5;
  config.mpcache_observation_ratio = 0.2;
  return config;
}

// Prompt keys that are zero except (8, 0) at `hot_row`; prompt queries (1, 0): the window votes
// favour `hot_row`, the other middle rows tie and go to the lowest index.
FloatMatrix hot_keys(int hot_row) {
  FloatMatrix keys = FloatMatrix::Zero(10, 2);
  keys(hot_row, 0) = 8;
  return keys;
}

FloatMatrix ones_queries() {
  FloatMatrix queries = FloatMatrix::Zero(10, 2);
  queries.col(0).setOnes();
  return queries;
}

TEST(Mpcache, StaticEvictionIsSharedAcrossHeadsAndKeepsSinksAndRecentRows) {
  MpcachePolicy policy(static_eviction_config());
  const ModelShape shape{1, 2, 2, 2};
  FakeEngine engine(policy, shape, 10);
  // Head 0 favours row 3, head 1 favours row 6; the head average keeps both.
  const FloatMatrix zeros = FloatMatrix::Zero(10, 2);
  engine.prefill(0, {hot_keys(3), hot_keys(6)}, {zeros, zeros}, {ones_queries(), ones_queries()});
  EXPECT_EQ(policy.static_capacity(), 5);
  for (int g = 0; g < 2; ++g) EXPECT_EQ(engine.layer(0).heads[g].positions, (Indices{0, 3, 6, 8, 9}));
  // Generated tokens are never statically evicted.
  for (int p = 10; p < 14; ++p) {
    engine.decode(0, {row({0, 0}), row({0, 0})}, {row({0, 0}), row({0, 0})}, {one_row({1, 0}), one_row({1, 0})}, p);
  }
  EXPECT_EQ(engine.layer(0).heads[0].size(), 9);
}

TEST(Mpcache, SelectionIndexesTheCompactedCacheAfterStaticEviction) {
  PolicyConfig config = static_eviction_config();
  config.mpcache_cluster_size1 = 2;
  config.mpcache_cluster_size2 = 1;
  config.mpcache_level1_ratio = 0.5;
  config.mpcache_dyn_ratio = 0.2;
  MpcachePolicy policy(config);
  FakeEngine engine(policy, ModelShape{1, 2, 2, 2}, 10);
  const FloatMatrix zeros = FloatMatrix::Zero(10, 2);
  engine.prefill(0, {hot_keys(3), hot_keys(6)}, {zeros, zeros}, {ones_queries(), ones_queries()});
  ASSERT_EQ(engine.layer(0).heads[0].positions, (Indices{0, 3, 6, 8, 9}));
  engine.decode(0, {row({0, 0}), row({0, 0})}, {row({0, 0}), row({0, 0})}, {one_row({1, 0}), one_row({1, 0})}, 10);
  // 6 rows per head: C2 = 6, C1 = 3, k1 = 1, k2 = min(1, 1 * 2 - 1) = 1, forced clusters 0 and 5.
  // Head 0 keys x = [0, 8, 0, 0, 0, 0] (position 3 is row 1): parent 0 (0.6 * 8 = 4.8) wins, its
  // only candidate is 1. Head 1 keys x = [0, 0, 8, 0, 0, 0] (position 6 is row 2): parent 1 wins,
  // candidates 2 (8) and 3 (0).
  EXPECT_EQ(*engine.last_selection().rows[0], (Indices{0, 1, 5}));
  EXPECT_EQ(*engine.last_selection().rows[1], (Indices{0, 2, 5}));
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

TEST(Mpcache, OddLayerReusesPreviousLayerClusterIndices) {
  const PolicyConfig config = small_clusters();
  MpcachePolicy policy(config);
  FakeEngine engine(policy, ModelShape{4, 1, 1, 2}, 24);
  // Layer 3's own keys favour other clusters; it must reuse layer 2's choice.
  const std::vector<double> reversed(kClusterCase.rbegin(), kClusterCase.rend());
  for (int l = 0; l < 4; ++l) {
    engine.prefill(l, {x_keys(l == 3 ? reversed : kClusterCase)}, {FloatMatrix::Zero(24, 2)}, {FloatMatrix::Zero(24, 2)});
  }
  std::vector<Indices> selected;
  for (int l = 0; l < 4; ++l) {
    decode_one_head(engine, l, 0, 24);
    selected.push_back(*engine.last_selection().rows[0]);
  }
  EXPECT_EQ(selected[2], (Indices{0, 1, 8, 9, 10, 11, 12, 13, 22, 23, 24}));
  EXPECT_EQ(selected[3], selected[2]);
  EXPECT_EQ(policy.last_selection(3, 0).attending, (Indices{0, 4, 5, 6, 11}));
  // Reversed, layer 3's own choice would be level 1 c3 {2,2,3,3} 2.6, c2 {-1,-1,4,4} 2.0, c4 {1,..} 1,
  // then the children 5 (4), 7 (3), 6 (2): clusters {0, 5, 6, 7, 11}.
  const ClusterSelection own =
      select_clusters(engine.layer(3).heads[0].keys, one_row({1, 0}), ClusterSelectionParams::from(config));
  EXPECT_EQ(own.attending, (Indices{0, 5, 6, 7, 11}));
}

// Positions of the rows a selection attends.
Indices attended_positions(FakeEngine& engine, int layer, const Indices& rows) {
  Indices positions;
  for (int r : rows) positions.push_back(engine.layer(layer).heads[0].positions[static_cast<std::size_t>(r)]);
  return positions;
}

TEST(Mpcache, LayersSharingIndicesKeepTheirLeadersTokensAndAttendTheSamePositions) {
  PolicyConfig config = static_eviction_config();
  config.mpcache_cluster_size1 = 2;
  config.mpcache_cluster_size2 = 1;
  config.mpcache_level1_ratio = 0.5;
  config.mpcache_dyn_ratio = 0.2;
  config.mpcache_share_skip_layers = 0;  // layer 0 selects, layer 1 reuses
  MpcachePolicy policy(config);
  FakeEngine engine(policy, ModelShape{2, 1, 1, 2}, 10);
  const FloatMatrix zeros = FloatMatrix::Zero(10, 2);
  engine.prefill(0, {hot_keys(3)}, {zeros}, {ones_queries()});
  engine.prefill(1, {hot_keys(1)}, {zeros}, {ones_queries()});  // its own votes would favour row 1
  // Sink 0, recent 8, 9, the hot row 3 and the lowest tied middle row 1, in both layers.
  ASSERT_EQ(engine.layer(0).heads[0].positions, (Indices{0, 1, 3, 8, 9}));
  ASSERT_EQ(engine.layer(1).heads[0].positions, engine.layer(0).heads[0].positions);
  decode_one_head(engine, 0, 0, 10);
  // Layer 0 keys x = [0, 0, 8, 0, 0, 0]: parent 1 wins, candidate 2 beats 3 -> clusters {0, 2, 5}.
  EXPECT_EQ(*engine.last_selection().rows[0], (Indices{0, 2, 5}));
  const Indices layer0 = attended_positions(engine, 0, *engine.last_selection().rows[0]);
  decode_one_head(engine, 1, 0, 10);
  EXPECT_EQ(policy.last_selection(1, 0).attending, (Indices{0, 2, 5}));
  EXPECT_EQ(attended_positions(engine, 1, *engine.last_selection().rows[0]), layer0);
  EXPECT_EQ(layer0, (Indices{0, 3, 10}));
}

TEST(Mpcache, EveryLayerOfASharingGroupKeepsTheFirstLayersRows) {
  PolicyConfig config = static_eviction_config();
  config.mpcache_share_skip_layers = 1;  // layer 0 alone; layers 1-2 and 3-4 share
  config.mpcache_share_interval = 2;
  EXPECT_EQ(mpcache_sharing_leader(0, config), 0);
  EXPECT_EQ(mpcache_sharing_leader(2, config), 1);
  EXPECT_EQ(mpcache_sharing_leader(4, config), 3);
  MpcachePolicy policy(config);
  FakeEngine engine(policy, ModelShape{5, 1, 1, 2}, 10);
  const FloatMatrix zeros = FloatMatrix::Zero(10, 2);
  const int hot[] = {5, 2, 6, 4, 7};
  for (int l = 0; l < 5; ++l) engine.prefill(l, {hot_keys(hot[l])}, {zeros}, {ones_queries()});
  EXPECT_EQ(engine.layer(0).heads[0].positions, (Indices{0, 1, 5, 8, 9}));
  EXPECT_EQ(engine.layer(1).heads[0].positions, (Indices{0, 1, 2, 8, 9}));
  EXPECT_EQ(engine.layer(2).heads[0].positions, engine.layer(1).heads[0].positions);
  EXPECT_EQ(engine.layer(3).heads[0].positions, (Indices{0, 1, 4, 8, 9}));
  EXPECT_EQ(engine.layer(4).heads[0].positions, engine.layer(3).heads[0].positions);
}

// Votes that peak at `hot` rows of a prompt of n rows: keys (8, 0) there, zero elsewhere.
FloatMatrix keys_hot_at(int n, const Indices& hot) {
  FloatMatrix keys = FloatMatrix::Zero(n, 2);
  for (int r : hot) keys(r, 0) = 8;
  return keys;
}

// The observation window competes for the budget: at every ratio the kept set is the sinks, the
// forced recent rows and the best-voted others, wherever they lie, never pure recency.
TEST(Mpcache, StaticEvictionLetsWindowRowsCompeteAtRatiosFromATenthToAHalf) {
  constexpr int n = 200;
  for (double ratio : {0.1, 0.15, 0.2, 0.3, 0.5}) {
    PolicyConfig config;
    config.sinks = 4;
    config.mpcache_recent = 8;
    config.mpcache_static_ratio = ratio;
    config.mpcache_observation_ratio = 0.2;  // the last 40 queries vote
    const auto counts = kvcache::rules::mpcache_static_counts(config, n);
    EXPECT_EQ(counts.capacity, static_cast<int>(std::lround(ratio * n))) << ratio;
    EXPECT_EQ(counts.window, 40);
    EXPECT_EQ(counts.middle_kept(), counts.capacity - 12) << ratio;
    MpcachePolicy policy(config);
    FakeEngine engine(policy, ModelShape{1, 1, 1, 2}, n);
    // Hot rows early (20, 50), inside the window (170, 180) and in the forced recent rows (195).
    const Indices hot = {20, 50, 170, 180, 195};
    FloatMatrix q = FloatMatrix::Zero(n, 2);
    q.col(0).setOnes();
    engine.prefill(0, {keys_hot_at(n, hot)}, {FloatMatrix::Zero(n, 2)}, {q});
    const Indices& kept = engine.layer(0).heads[0].positions;
    ASSERT_EQ(static_cast<int>(kept.size()), counts.capacity) << ratio;
    for (int p : {0, 1, 2, 3, 192, 193, 194, 195, 196, 197, 198, 199, 20, 50, 170, 180})
      EXPECT_TRUE(std::binary_search(kept.begin(), kept.end(), p)) << "ratio " << ratio << " lost position " << p;
    // The rest of the budget goes to the best-voted rows before the window too (not only to it).
    const auto before_window = std::count_if(kept.begin(), kept.end(), [](int p) { return p >= 4 && p < n - 40; });
    EXPECT_GE(before_window, 2) << ratio;
  }
}

TEST(Mpcache, ReusedSelectionAddsItsOwnTailAndRejectsAnotherLength) {
  ClusterSelectionParams params;
  params.size1 = 4;
  params.size2 = 2;
  params.level1_ratio = 0.5;
  params.level2_ratio = 0.25;
  std::vector<double> xs = kClusterCase;
  xs.push_back(0);  // 25 rows, as in DecodeStepAttendsTheFixedCountClusterSelection
  const ClusterSelection previous = select_clusters(x_keys(xs), one_row({1, 0}), params);
  ASSERT_EQ(previous.attending, (Indices{0, 4, 5, 6, 11}));
  const ClusterSelection reused = reuse_cluster_selection(previous, 25, params);
  EXPECT_EQ(reused.attending, previous.attending);
  EXPECT_EQ(reused.rows, previous.rows);
  EXPECT_THROW(reuse_cluster_selection(previous, 27, params), std::logic_error);
  EXPECT_THROW(reuse_cluster_selection(ClusterSelection{}, 25, params), std::logic_error);
}

TEST(Mpcache, InvalidClusterParametersAreRejectedAtBegin) {
  PolicyConfig config;
  config.mpcache_cluster_size1 = 24;  // not a multiple of 16
  MpcachePolicy policy(config);
  EXPECT_THROW(policy.begin(ModelShape{1, 1, 1, 2}, 10), std::invalid_argument);
}

// Quest's page boxes (kvcache/cluster_boxes.hpp) no longer back MPCache but are still used there.
TEST(ClusterBoxes, UpdateIncrementallyLikeARebuild) {
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

}  // namespace
}  // namespace kvcache
