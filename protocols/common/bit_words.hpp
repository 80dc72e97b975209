// Word-wise operations on bit-sliced boolean shares (bit j of a word is bit j of a value), used by
// both boolean backends.
#pragma once

#include "mpc/ring.hpp"

namespace protocols {

inline mpc::RingMatrix bit_xor(const mpc::RingMatrix& a, const mpc::RingMatrix& b) {
  return a.binaryExpr(b, [](mpc::u64 u, mpc::u64 v) { return u ^ v; });
}
inline mpc::RingMatrix bit_and(const mpc::RingMatrix& a, const mpc::RingMatrix& b) {
  return a.binaryExpr(b, [](mpc::u64 u, mpc::u64 v) { return u & v; });
}
inline mpc::RingMatrix low_bit(const mpc::RingMatrix& a) {
  return a.unaryExpr([](mpc::u64 v) { return v & 1u; });
}

// Bit 0 of each element, packed 64 to a word: opening single bits costs bits, not words.
inline mpc::RingMatrix pack_low_bits(const mpc::RingMatrix& m) {
  const Eigen::Index n = m.size();
  mpc::RingMatrix packed = mpc::RingMatrix::Zero(1, (n + 63) / 64);
  for (Eigen::Index i = 0; i < n; ++i) packed(0, i / 64) |= (m.data()[i] & 1u) << (i % 64);
  return packed;
}

inline mpc::RingMatrix unpack_low_bits(const mpc::RingMatrix& packed, Eigen::Index rows, Eigen::Index cols) {
  mpc::RingMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = (packed(0, i / 64) >> (i % 64)) & 1u;
  return m;
}

}  // namespace protocols
