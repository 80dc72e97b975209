// Frame layout of the boolean backends: whole tensors concatenated into one message per peer per
// round. Shapes are public, so only the elements travel; a size mismatch means the parties ran
// different programs and is reported instead of silently misreading.
#pragma once

#include "mpc/ring.hpp"
#include "net/mesh.hpp"

#include <cstring>
#include <span>
#include <string>
#include <vector>

namespace protocols::boolean_wire {

// Word-wise operations on bit-sliced shares, used by both boolean backends.
inline mpc::RingMatrix bit_xor(const mpc::RingMatrix& a, const mpc::RingMatrix& b) {
  return a.binaryExpr(b, [](mpc::u64 u, mpc::u64 v) { return u ^ v; });
}
inline mpc::RingMatrix bit_and(const mpc::RingMatrix& a, const mpc::RingMatrix& b) {
  return a.binaryExpr(b, [](mpc::u64 u, mpc::u64 v) { return u & v; });
}
inline mpc::RingMatrix low_bit(const mpc::RingMatrix& a) {
  return a.unaryExpr([](mpc::u64 v) { return v & 1u; });
}

inline net::Bytes pack(std::span<const mpc::RingMatrix* const> matrices) {
  std::size_t total = 0;
  for (const auto* m : matrices) total += static_cast<std::size_t>(m->size()) * sizeof(mpc::u64);
  net::Bytes out(total);
  std::size_t offset = 0;
  for (const auto* m : matrices) {
    const auto bytes = mpc::as_bytes(*m);
    if (!bytes.empty()) std::memcpy(out.data() + offset, bytes.data(), bytes.size());
    offset += bytes.size();
  }
  return out;
}

// Fills `targets` (already sized) from a frame; throws net::NetError on a size mismatch.
inline void unpack_into(const net::Bytes& frame, std::span<mpc::RingMatrix* const> targets, const char* what) {
  std::size_t total = 0;
  for (const auto* m : targets) total += static_cast<std::size_t>(m->size()) * sizeof(mpc::u64);
  if (frame.size() != total) {
    throw net::NetError(std::string(what) + ": expected a frame of " + std::to_string(total) + " bytes, got " +
                        std::to_string(frame.size()) + " (parties out of step)");
  }
  std::size_t offset = 0;
  for (auto* m : targets) {
    auto bytes = mpc::as_writable_bytes(*m);
    if (!bytes.empty()) std::memcpy(bytes.data(), frame.data() + offset, bytes.size());
    offset += bytes.size();
  }
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

}  // namespace protocols::boolean_wire
