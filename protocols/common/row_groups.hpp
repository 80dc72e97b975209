// Row groups of a fixed operand (Protocol::group_rows): row c of the grouped matrix is rows
// [c*g, (c+1)*g) of the original laid side by side. Matrices are row-major, so this is a reshape of
// the first floor(rows / g) * g rows; every backend applies it to its value and to its state
// (mask, opened value, shares) alike, which keeps them consistent without any communication.
#pragma once

#include "mpc/ring.hpp"

#include <stdexcept>
#include <string>

namespace protocols {

inline void check_rows_per_group(Eigen::Index rows_per_group) {
  if (rows_per_group < 1)
    throw std::invalid_argument("group_rows: rows per group must be positive, got " + std::to_string(rows_per_group));
}

// An empty matrix (the unused second component of a 2PC share) stays empty.
inline mpc::RingMatrix grouped_rows(mpc::RingView m, Eigen::Index rows_per_group) {
  if (m.size() == 0) return mpc::RingMatrix(m.rows(), m.cols());
  if (m.outerStride() != m.cols()) throw std::invalid_argument("group_rows: the rows are not contiguous");
  const Eigen::Index groups = m.rows() / rows_per_group;
  return Eigen::Map<const mpc::RingMatrix>(m.data(), groups, rows_per_group * m.cols());
}

}  // namespace protocols
