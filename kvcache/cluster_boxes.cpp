#include "kvcache/cluster_boxes.hpp"

#include "kvcache/selection_util.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace kvcache {

ClusterBoxes::ClusterBoxes(int cluster_size) : size_(cluster_size) {
  if (cluster_size <= 0) throw std::invalid_argument("ClusterBoxes: cluster size must be positive");
}

void ClusterBoxes::clear() {
  rows_ = 0;
  max_.resize(0, 0);
  min_.resize(0, 0);
}

void ClusterBoxes::update(mpc::FloatView keys) {
  const int rows = static_cast<int>(keys.rows());
  if (rows < rows_) {
    throw std::logic_error("ClusterBoxes::update: the cache shrank from " + std::to_string(rows_) + " to " +
                           std::to_string(rows) + " rows; clear() and rebuild after an eviction");
  }
  if (rows_ == 0) {
    max_.resize(0, keys.cols());
    min_.resize(0, keys.cols());
  }
  for (int r = rows_; r < rows; ++r) {
    const int c = r / size_;
    if (c == clusters()) {
      max_.conservativeResize(c + 1, Eigen::NoChange);
      min_.conservativeResize(c + 1, Eigen::NoChange);
      max_.row(c) = keys.row(r);
      min_.row(c) = keys.row(r);
    } else {
      max_.row(c) = max_.row(c).cwiseMax(keys.row(r));
      min_.row(c) = min_.row(c).cwiseMin(keys.row(r));
    }
  }
  rows_ = rows;
}

std::vector<int> ClusterBoxes::rows_of(int cluster) const {
  if (cluster < 0 || cluster >= clusters()) throw std::out_of_range("ClusterBoxes::rows_of: no such cluster");
  return index_range(cluster * size_, std::min(rows_, (cluster + 1) * size_));
}

}  // namespace kvcache
