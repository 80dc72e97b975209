// Local re-arrangements of shares (no communication): slicing, concatenating and broadcasting
// along the last axis, summing rows, and shares of public constants. They act on every share
// component the same way (map_components), so they work for any backend and for the dealer's
// shape-only shares.
#pragma once

#include "protocols/boolean.hpp"
#include "protocols/common/share_components.hpp"
#include "protocols/protocol.hpp"

#include <span>
#include <vector>

namespace protocols::ops {

using ColumnIndices = std::vector<Eigen::Index>;

// Shape-only sharing of zero and sharings of public matrices, in the format of proto's backend.
Share zeros(const Protocol& proto, Eigen::Index rows, Eigen::Index cols);
Share constant(const Protocol& proto, const RingMatrix& value);

Share columns(const Share& x, Eigen::Index first, Eigen::Index count);
Share gather_columns(const Share& x, const ColumnIndices& cols);
Share concat_columns(std::span<const Share> parts);
Share concat_rows(std::span<const Share> parts);
Share rows_of(const Share& x, Eigen::Index first, Eigen::Index count);
// The same on a fixed operand's value: copies only the rows asked for, never the whole cache.
Share rows_of(const GrowingShare& x, Eigen::Index first, Eigen::Index count);
// rows x 1 -> rows x cols, repeating the column.
Share broadcast_column(const Share& x, Eigen::Index cols);
// rows x cols -> rows x 1, the sum over the last axis.
Share row_sum(const Share& x);
// Reinterprets the row-major elements with a new shape.
Share reshape(const Share& x, Eigen::Index rows, Eigen::Index cols);

// Bits from which equality of two integers that differ by less than n can be decided (w with
// n <= 2^(w-1)); the width for equal_public on such differences.
inline int bits_for_difference(Eigen::Index n) {
  int w = 1;
  while ((Eigen::Index{1} << (w - 1)) < n) ++w;
  return w;
}

// Smallest b >= 1 with n <= 2^b: the bits of indices in [0, n).
inline int bits_for_index(Eigen::Index n) {
  int b = 1;
  while ((Eigen::Index{1} << b) < n) ++b;
  return b;
}

// A public matrix of equal entries.
inline RingMatrix filled(Eigen::Index rows, Eigen::Index cols, mpc::u64 value) {
  return RingMatrix::Constant(rows, cols, value);
}

}  // namespace protocols::ops
