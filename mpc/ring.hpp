// Ring Z_2^64 tensors and the float tensors they are checked against.
// Every secret value is a matrix over Z_2^64 with wrap-around arithmetic
// (unsigned overflow is defined in C++, which is exactly reduction mod 2^64).
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <span>

namespace mpc {

using u64 = std::uint64_t;
using i64 = std::int64_t;

// Row-major so that a row (one token, one head, one query) is contiguous:
// the last axis is the one reductions (softmax, max, top-k) run over.
using RingMatrix = Eigen::Matrix<u64, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using FloatMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
// Read-only view of a ring matrix or of contiguous rows of one (a GrowingRows, a block of rows):
// kernels take it so that a growing KV cache is read in place, not copied into a RingMatrix.
using RingView = Eigen::Ref<const RingMatrix>;
using FloatView = Eigen::Ref<const FloatMatrix>;

inline std::span<const std::uint8_t> as_bytes(const RingMatrix& m) {
  return {reinterpret_cast<const std::uint8_t*>(m.data()), static_cast<std::size_t>(m.size()) * sizeof(u64)};
}

inline std::span<std::uint8_t> as_writable_bytes(RingMatrix& m) {
  return {reinterpret_cast<std::uint8_t*>(m.data()), static_cast<std::size_t>(m.size()) * sizeof(u64)};
}

// Matrix product over the ring. Eigen's product is correct for u64 (wrap-around),
// the explicit name keeps call sites honest about what ring they are in.
inline RingMatrix ring_matmul(const RingMatrix& a, const RingMatrix& b) { return a * b; }

}  // namespace mpc
