#include "kvcache/bitmap_sparse.hpp"

#include "kvcache/selection_util.hpp"

#include <bit>
#include <cmath>
#include <stdexcept>
#include <string>

namespace kvcache {

Eigen::RowVectorXd magnitude_prune(const Eigen::RowVectorXd& row, int keep) {
  std::vector<double> magnitude(static_cast<std::size_t>(row.size()));
  for (Eigen::Index i = 0; i < row.size(); ++i) magnitude[i] = std::abs(row[i]);
  Eigen::RowVectorXd pruned = Eigen::RowVectorXd::Zero(row.size());
  for (int i : top_k(magnitude, keep)) pruned[i] = row[i];
  return pruned;
}

BitmapSparseRows::BitmapSparseRows(int cols) : cols_(cols), words_per_row_((cols + 63) / 64) {
  if (cols < 0) throw std::invalid_argument("BitmapSparseRows: negative column count");
}

void BitmapSparseRows::append(const Eigen::RowVectorXd& row) {
  if (row.size() != cols_) {
    throw std::invalid_argument("BitmapSparseRows::append: row width " + std::to_string(row.size()) + " != " +
                                std::to_string(cols_));
  }
  const std::size_t first_word = bitmaps_.size();
  bitmaps_.resize(first_word + static_cast<std::size_t>(words_per_row_), 0);
  for (int c = 0; c < cols_; ++c) {
    if (row[c] == 0.0) continue;
    bitmaps_[first_word + static_cast<std::size_t>(c / 64)] |= std::uint64_t{1} << (c % 64);
    values_.push_back(row[c]);
  }
  offsets_.push_back(static_cast<std::uint32_t>(values_.size()));
}

void BitmapSparseRows::check_row(int r) const {
  if (r < 0 || r >= rows()) {
    throw std::out_of_range("BitmapSparseRows: row " + std::to_string(r) + " outside [0, " + std::to_string(rows()) +
                            ")");
  }
}

template <typename Visit>
void BitmapSparseRows::for_each_nonzero(int r, Visit visit) const {
  check_row(r);
  std::size_t value = offsets_[r];
  for (int w = 0; w < words_per_row_; ++w) {
    // Walk the set bits only: the cost is the number of non-zeros, not the row width.
    for (std::uint64_t bits = bitmaps_[static_cast<std::size_t>(r) * words_per_row_ + w]; bits != 0; bits &= bits - 1) {
      visit(w * 64 + std::countr_zero(bits), values_[value++]);
    }
  }
}

Eigen::RowVectorXd BitmapSparseRows::dense_row(int r) const {
  Eigen::RowVectorXd out = Eigen::RowVectorXd::Zero(cols_);
  for_each_nonzero(r, [&](int c, double v) { out[c] = v; });
  return out;
}

double BitmapSparseRows::dot(int r, const Eigen::RowVectorXd& x) const {
  double sum = 0.0;
  for_each_nonzero(r, [&](int c, double v) { sum += v * x[c]; });
  return sum;
}

void BitmapSparseRows::add_scaled(int r, double weight, Eigen::RowVectorXd& out) const {
  for_each_nonzero(r, [&](int c, double v) { out[c] += weight * v; });
}

std::size_t BitmapSparseRows::memory_bytes() const {
  return bitmaps_.size() * sizeof(std::uint64_t) + values_.size() * sizeof(double) +
         offsets_.size() * sizeof(std::uint32_t);
}

}  // namespace kvcache
