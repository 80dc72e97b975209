// MPCache dynamic selection, fixed-count ("MPC-friendly") variant: the plaintext reference of the
// secure selection (kvcache/secure/secure_cluster_selection.hpp). Every count below depends only
// on the cache length and the parameters, never on the keys or queries, so that the secure version
// can run the same program on secret data.
//
// For one key/value head with `len` cached rows, level-2 clusters of s2 rows and level-1 clusters of
// s1 rows (s1 a multiple of s2):
//  - C2 = floor(len / s2) complete level-2 clusters, cluster c covers rows [c*s2, (c+1)*s2); the
//    tail rows [C2*s2, len) always attend. C1 = floor(len / s1); level-1 cluster p is the parent of
//    level-2 clusters p*(s1/s2) ... (p+1)*(s1/s2) - 1.
//  - C2 < 3 or C1 < 1: every row attends.
//  - Level-2 clusters 0 and C2-1 are forced (with the tail, the last s2 rows always attend).
//  - Level 1: the k1 = max(1, floor(C1 * r1)) best level-1 clusters.
//  - Level 2: candidates are the children of the chosen level-1 clusters except the forced ones;
//    the k2 best candidates attend, k2 = min(max(1, floor(C2 * r2)), the fewest candidates any
//    choice of k1 level-1 clusters can give).
//  - score(cluster) = sum over the group's query rows q of q . (a*max + (1-a)*min), max/min the
//    per-channel bounds of the cluster's keys. Higher scores win; equal scores go to the lower
//    cluster index.
#pragma once

#include "kvcache/policy_config.hpp"
#include "mpc/ring.hpp"

#include <vector>

namespace kvcache {

using mpc::FloatMatrix;

struct ClusterSelectionParams {
  double alpha = 0.6;         // centre = alpha * max + (1 - alpha) * min
  int size1 = 32;             // s1, rows per level-1 cluster (a multiple of size2)
  int size2 = 16;             // s2, rows per level-2 cluster
  double level1_ratio = 0.5;  // r1
  double level2_ratio = 0.2;  // r2

  static ClusterSelectionParams from(const PolicyConfig& config);
  int children() const { return size1 / size2; }
  // Throws std::invalid_argument for sizes or ratios outside their domain.
  void validate() const;
};

// The public counts of one selection at cache length `len`.
struct ClusterSelectionShape {
  int len = 0;
  int clusters1 = 0;   // C1
  int clusters2 = 0;   // C2
  bool selects = false;  // false: every row attends
  int k1 = 0;          // level-1 clusters chosen
  int k2 = 0;          // level-2 clusters chosen among the candidates (forced ones not included)
  int tail_begin = 0;  // first tail row (C2 * s2)
  int size2 = 0;

  int tail_rows() const { return len - tail_begin; }
  // (k2 + 2) * s2 + tail rows when selecting, len otherwise.
  int attending_rows() const { return selects ? (k2 + 2) * size2 + tail_rows() : len; }
  int last_cluster() const { return clusters2 - 1; }
};

ClusterSelectionShape cluster_selection_shape(int len, const ClusterSelectionParams& params);

struct ClusterSelection {
  ClusterSelectionShape shape;
  std::vector<int> level1;     // chosen level-1 clusters (k1), increasing
  std::vector<int> level2;     // chosen level-2 candidates (k2), increasing; forced ones excluded
  std::vector<int> attending;  // level2 plus the forced clusters 0 and C2-1, increasing
  std::vector<int> rows;       // attending rows (clusters' rows and the tail), increasing
};

// Level-1 / level-2 scores of the complete clusters of `keys` (len x d) against the group's query
// rows (g x d): entry c is score(cluster c).
std::vector<double> cluster_scores(const FloatMatrix& keys, const FloatMatrix& queries, int cluster_size,
                                   double alpha);

// The selection for one key/value head: `keys` are the head's cached rows (len x d), `queries` the
// query rows of the heads of its group (g x d).
ClusterSelection select_clusters(mpc::FloatView keys, const FloatMatrix& queries,
                                 const ClusterSelectionParams& params);

}  // namespace kvcache
