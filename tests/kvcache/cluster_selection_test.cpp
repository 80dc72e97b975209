// The fixed-count MPCache selection (kvcache/cluster_selection.hpp) on hand-checked small caches:
// level-1 clusters of 4 rows, level-2 clusters of 2 rows, keys along x (y = 0).
#include "kvcache/cluster_selection.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

namespace kvcache {
namespace {

using Indices = std::vector<int>;

FloatMatrix x_keys(const std::vector<double>& xs) {
  FloatMatrix keys = FloatMatrix::Zero(static_cast<Eigen::Index>(xs.size()), 2);
  for (std::size_t i = 0; i < xs.size(); ++i) keys(static_cast<Eigen::Index>(i), 0) = xs[i];
  return keys;
}

FloatMatrix x_queries(const std::vector<double>& xs) {
  FloatMatrix q = FloatMatrix::Zero(static_cast<Eigen::Index>(xs.size()), 2);
  for (std::size_t i = 0; i < xs.size(); ++i) q(static_cast<Eigen::Index>(i), 0) = xs[i];
  return q;
}

// Level-1 scores with q = (1, 0) and alpha 0.6:        level-2 scores (children):
//   c0 {0,0,0,0}          0                             0: 0    1: 0
//   c1 {1,1,1,1}          1                             2: 1    3: 1
//   c2 {3,3,2,2}          0.6*3 + 0.4*2 = 2.6           4: 3    5: 2
//   c3 {4,4,-1,-1}        0.6*4 - 0.4*1 = 2.0           6: 4    7: -1
//   c4 {5,5,-100,-100}    3 - 40 = -37                  8: 5    9: -100
//   c5 {.5,.5,.5,.5}      0.5                           10: .5  11: .5
const std::vector<double> kCase = {0, 0, 0, 0, 1, 1, 1, 1, 3, 3, 2, 2, 4, 4, -1, -1, 5, 5, -100, -100, 0.5, 0.5, 0.5, 0.5};

ClusterSelectionParams small(double level2_ratio = 0.25) {
  ClusterSelectionParams p;
  p.size1 = 4;
  p.size2 = 2;
  p.level1_ratio = 0.5;
  p.level2_ratio = level2_ratio;
  return p;
}

std::vector<double> with_tail(std::vector<double> xs, std::initializer_list<double> tail) {
  xs.insert(xs.end(), tail);
  return xs;
}

TEST(ClusterSelection, TwoLevelsPickTheBestChildrenOfTheBestParents) {
  const ClusterSelection s = select_clusters(x_keys(kCase), x_queries({1}), small());
  // k1 = floor(6 * 0.5) = 3: c2, c3, c1. k2 = floor(12 * 0.25) = 3 of the children {2..7}: 6, 4, 5.
  // Child 8 has the best level-2 score but its parent c4 lost.
  EXPECT_EQ(s.level1, (Indices{1, 2, 3}));
  EXPECT_EQ(s.level2, (Indices{4, 5, 6}));
  EXPECT_EQ(s.attending, (Indices{0, 4, 5, 6, 11}));
  EXPECT_EQ(s.rows, (Indices{0, 1, 8, 9, 10, 11, 12, 13, 22, 23}));
  EXPECT_EQ(s.shape.attending_rows(), 10);
}

TEST(ClusterSelection, TailRowsAlwaysAttendAndTheLastCompleteClusterIsForced) {
  // 27 rows: C2 = 13 (cluster 12 = rows 24, 25 has no complete parent), C1 = 6, tail = row 26.
  const ClusterSelection s = select_clusters(x_keys(with_tail(kCase, {9, 9, 9})), x_queries({1}), small());
  EXPECT_EQ(s.shape.clusters2, 13);
  EXPECT_EQ(s.shape.tail_rows(), 1);
  EXPECT_EQ(s.level1, (Indices{1, 2, 3}));
  EXPECT_EQ(s.level2, (Indices{4, 5, 6}));
  EXPECT_EQ(s.attending, (Indices{0, 4, 5, 6, 12}));
  EXPECT_EQ(s.rows, (Indices{0, 1, 8, 9, 10, 11, 12, 13, 24, 25, 26}));
  EXPECT_EQ(s.shape.attending_rows(), 11);
}

TEST(ClusterSelection, LevelTwoCountIsCappedByTheFewestPossibleCandidates) {
  // 12 rows: C1 = 3, k1 = 1; C2 = 6 and r2 = 0.5 would ask for 3, but one chosen parent can hold
  // a forced child, leaving a single candidate. c2 wins level 1; its child 5 is forced (C2 - 1).
  const std::vector<double> xs(kCase.begin(), kCase.begin() + 12);
  const ClusterSelection s = select_clusters(x_keys(xs), x_queries({1}), small(0.5));
  EXPECT_EQ(s.shape.k1, 1);
  EXPECT_EQ(s.shape.k2, 1);
  EXPECT_EQ(s.level1, (Indices{2}));
  EXPECT_EQ(s.level2, (Indices{4}));
  EXPECT_EQ(s.attending, (Indices{0, 4, 5}));
  EXPECT_EQ(s.rows, (Indices{0, 1, 8, 9, 10, 11}));
}

TEST(ClusterSelection, QueriesOfTheGroupAreSummed) {
  // q1 + q2 = (-1, 0) reverses every score: level 1 c4 (37), c0 (0), c5 (-0.5); candidates
  // {1, 8, 9, 10} (0 and 11 are forced) with scores 0, -5, 100, -0.5.
  const ClusterSelection s = select_clusters(x_keys(kCase), x_queries({1, -2}), small());
  EXPECT_EQ(s.level1, (Indices{0, 4, 5}));
  EXPECT_EQ(s.level2, (Indices{1, 9, 10}));
  EXPECT_EQ(s.attending, (Indices{0, 1, 9, 10, 11}));
}

TEST(ClusterSelection, TiesGoToTheLowerClusterIndex) {
  const ClusterSelection s = select_clusters(FloatMatrix::Zero(16, 2), x_queries({1}), small());
  // k1 = 2 of 4 equal parents: 0, 1; candidates {1, 2, 3}; k2 = 2: 1, 2.
  EXPECT_EQ(s.level1, (Indices{0, 1}));
  EXPECT_EQ(s.level2, (Indices{1, 2}));
  EXPECT_EQ(s.attending, (Indices{0, 1, 2, 7}));
}

TEST(ClusterSelection, ShortCachesAttendEverything) {
  for (int len : {0, 1, 5}) {  // C2 < 3
    const ClusterSelection s = select_clusters(FloatMatrix::Zero(len, 2), x_queries({1}), small());
    EXPECT_FALSE(s.shape.selects);
    EXPECT_TRUE(s.level1.empty());
    EXPECT_EQ(s.rows.size(), static_cast<std::size_t>(len));
    EXPECT_EQ(s.shape.attending_rows(), len);
  }
  ClusterSelectionParams wide = small();
  wide.size1 = 8;  // 6 rows: C2 = 3 but no complete level-1 cluster
  EXPECT_FALSE(select_clusters(FloatMatrix::Zero(6, 2), x_queries({1}), wide).shape.selects);
}

TEST(ClusterSelection, SmallestSelectingCacheKeepsTheOnlyCandidate) {
  // 6 rows: C2 = 3, C1 = 1; forced 0 and 2, the only candidate is 1.
  const ClusterSelection s = select_clusters(x_keys({1, 2, 3, 4, 5, 6}), x_queries({1}), small());
  EXPECT_TRUE(s.shape.selects);
  EXPECT_EQ(s.level1, (Indices{0}));
  EXPECT_EQ(s.level2, (Indices{1}));
  EXPECT_EQ(s.rows, (Indices{0, 1, 2, 3, 4, 5}));
}

TEST(ClusterSelection, DefaultShapesAtLongCaches) {
  const ClusterSelectionParams defaults;
  const ClusterSelectionShape at1024 = cluster_selection_shape(1024, defaults);
  EXPECT_EQ(at1024.k1, 16);
  EXPECT_EQ(at1024.k2, 12);
  EXPECT_EQ(at1024.attending_rows(), 14 * 16);
  const ClusterSelectionShape at4100 = cluster_selection_shape(4100, defaults);
  EXPECT_EQ(at4100.k1, 64);
  EXPECT_EQ(at4100.k2, 51);
  EXPECT_EQ(at4100.attending_rows(), 53 * 16 + 4);
}

TEST(ClusterSelection, InvalidParametersAreRejected) {
  ClusterSelectionParams p = small();
  p.size1 = 5;
  EXPECT_THROW(cluster_selection_shape(64, p), std::invalid_argument);
  p = small();
  p.level1_ratio = 0;
  EXPECT_THROW(cluster_selection_shape(64, p), std::invalid_argument);
  EXPECT_THROW(select_clusters(FloatMatrix::Zero(16, 2), FloatMatrix::Zero(1, 3), small()), std::invalid_argument);
}

}  // namespace
}  // namespace kvcache
