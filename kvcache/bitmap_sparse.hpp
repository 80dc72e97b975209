// Bitmap sparse row storage (the format MUSTAFAR computes on): per row, a bitmap of which columns
// are non-zero followed by the non-zero values packed in column order. Attention runs directly on
// it: q . k needs only the packed values at the set bits, and p * v accumulates the same way.
#pragma once

#include "kvcache/layer_cache.hpp"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace kvcache {

// Zeroes all but the `keep` largest-magnitude entries of `row` (ties keep the lower column).
Eigen::RowVectorXd magnitude_prune(const Eigen::RowVectorXd& row, int keep);

class BitmapSparseRows {
 public:
  explicit BitmapSparseRows(int cols = 0);

  // Stores the non-zero entries of `row`.
  void append(const Eigen::RowVectorXd& row);

  int rows() const { return static_cast<int>(offsets_.size()) - 1; }
  int cols() const { return cols_; }
  int nonzeros() const { return static_cast<int>(values_.size()); }
  Eigen::RowVectorXd dense_row(int r) const;
  double dot(int r, const Eigen::RowVectorXd& x) const;
  // out += weight * row r
  void add_scaled(int r, double weight, Eigen::RowVectorXd& out) const;
  // Bytes held: bitmaps, packed values and the per-row offsets into the packed values.
  std::size_t memory_bytes() const;

 private:
  void check_row(int r) const;
  template <typename Visit>
  void for_each_nonzero(int r, Visit visit) const;

  int cols_;
  int words_per_row_;
  std::vector<std::uint64_t> bitmaps_;
  std::vector<double> values_;
  std::vector<std::uint32_t> offsets_{0};
};

}  // namespace kvcache
