// Per-channel bounding boxes (max, min) of contiguous clusters of key rows: cluster c covers rows
// [c * size, (c + 1) * size) of a head. Boxes are maintained incrementally: appending rows only
// touches the newest cluster (or opens a new one), which is what makes them cheap to keep under
// MPC. Used by Quest (pages) and MPCache (clusters).
#pragma once

#include "kvcache/layer_cache.hpp"

#include <vector>

namespace kvcache {

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
