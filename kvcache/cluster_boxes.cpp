#include "kvcache/cluster_boxes.hpp"

#include "kvcache/selection_util.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace kvcache {

Box box_of_rows(mpc::FloatView keys, Eigen::Index first, Eigen::Index count) {
  if (count == 0) return {FloatMatrix(0, keys.cols()), FloatMatrix(0, keys.cols())};
  const auto block = keys.middleRows(first, count);
  return {block.colwise().maxCoeff(), block.colwise().minCoeff()};
}

Box boxes_of_groups(mpc::FloatView keys, Eigen::Index groups, Eigen::Index size) {
  Box boxes{FloatMatrix(groups, keys.cols()), FloatMatrix(groups, keys.cols())};
  for (Eigen::Index c = 0; c < groups; ++c) {
    const Box box = box_of_rows(keys, c * size, size);
    boxes.max.row(c) = box.max;
    boxes.min.row(c) = box.min;
  }
  return boxes;
}

PlainHeadBoxes plain_head_boxes(mpc::FloatView keys, const ClusterSelectionParams& params) {
  params.validate();
  const Eigen::Index len = keys.rows(), c2 = len / params.size2, c1 = len / params.size1;
  PlainHeadBoxes out;
  Box box = boxes_of_groups(keys, c2, params.size2);
  out.max2 = std::move(box.max), out.min2 = std::move(box.min);
  box = boxes_of_groups(keys, c1, params.size1);
  out.max1 = std::move(box.max), out.min1 = std::move(box.min);
  box = box_of_rows(keys, c2 * params.size2, len - c2 * params.size2);
  out.open2_max = std::move(box.max), out.open2_min = std::move(box.min);
  box = box_of_rows(keys, c1 * params.size1, (c2 - c1 * params.children()) * params.size2);
  out.open1_max = std::move(box.max), out.open1_min = std::move(box.min);
  return out;
}

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
  if (rows == rows_) return;
  // Only the clusters the new rows fall in change: the open one and any opened after it.
  const int first = rows_ / size_, end = (rows + size_ - 1) / size_;
  max_.conservativeResize(end, Eigen::NoChange);
  min_.conservativeResize(end, Eigen::NoChange);
  for (int c = first; c < end; ++c) {
    const Box box = box_of_rows(keys, c * size_, std::min(rows, (c + 1) * size_) - c * size_);
    max_.row(c) = box.max;
    min_.row(c) = box.min;
  }
  rows_ = rows;
}

std::vector<int> ClusterBoxes::rows_of(int cluster) const {
  if (cluster < 0 || cluster >= clusters()) throw std::out_of_range("ClusterBoxes::rows_of: no such cluster");
  return index_range(cluster * size_, std::min(rows_, (cluster + 1) * size_));
}

}  // namespace kvcache
