// Per-channel bounding boxes (max, min) of contiguous clusters of key rows: cluster c covers rows
// [c * size, (c + 1) * size) of a head. Boxes are maintained incrementally: appending rows only
// touches the newest cluster (or opens a new one), which is what makes them cheap to keep under
// MPC. Used by Quest (pages) and MPCache (clusters). Every plaintext box of the project (the
// incremental boxes, MPCache's cluster scores, the boxes a plaintext cache source hands to the
// secure policies) is computed by box_of_rows.
#pragma once

#include "kvcache/cluster_selection.hpp"
#include "kvcache/layer_cache.hpp"

#include <vector>

namespace kvcache {

// Per-channel max and min of some key rows (1 x d each; 0 x d over no rows).
struct Box {
  FloatMatrix max, min;
};
// The box of rows [first, first + count) of `keys`.
Box box_of_rows(mpc::FloatView keys, Eigen::Index first, Eigen::Index count);
// The boxes of `groups` consecutive groups of `size` rows from row 0 (groups x d each).
Box boxes_of_groups(mpc::FloatView keys, Eigen::Index groups, Eigen::Index size);

// The two-level boxes of one head as the secure cluster boxes hold them (kvcache/secure/
// secure_cluster_boxes.hpp), in plaintext: what a plaintext cache source hands to a secure policy.
struct PlainHeadBoxes {
  FloatMatrix max2, min2;            // complete level-2 clusters (C2 x d)
  FloatMatrix max1, min1;            // complete level-1 clusters (C1 x d)
  FloatMatrix open2_max, open2_min;  // the rows of the open level-2 cluster (1 x d, 0 x d when none)
  FloatMatrix open1_max, open1_min;  // the complete children of the open level-1 cluster (1 x d, 0 x d when none)
};
// The plaintext boxes of a head's `keys` (len x d) under `params`.
PlainHeadBoxes plain_head_boxes(mpc::FloatView keys, const ClusterSelectionParams& params);

class ClusterBoxes {
 public:
  explicit ClusterBoxes(int cluster_size = 16);

  // Brings the boxes up to date with `keys`, whose first rows must be the ones already covered
  // (rows are only ever appended); touches only the clusters the new rows fall in.
  void update(mpc::FloatView keys);
  void clear();

  int cluster_size() const { return size_; }
  int clusters() const { return static_cast<int>(max_.rows()); }
  int rows_covered() const { return rows_; }
  const FloatMatrix& max() const { return max_; }
  const FloatMatrix& min() const { return min_; }
  // Rows of cluster c (the newest cluster may be partial).
  std::vector<int> rows_of(int cluster) const;

 private:
  int size_;
  int rows_ = 0;
  FloatMatrix max_;
  FloatMatrix min_;
};

}  // namespace kvcache
