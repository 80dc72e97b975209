// Fixed-point encoding of reals into Z_2^64: x -> round(x * 2^F) as a two's complement integer.
#pragma once

#include "mpc/ring.hpp"

#include <cmath>
#include <stdexcept>

namespace mpc {

inline constexpr int kDefaultFracBits = 16;

class FixedPoint {
 public:
  explicit FixedPoint(int frac_bits = kDefaultFracBits) : frac_bits_(frac_bits) {
    if (frac_bits < 0 || frac_bits > 40) throw std::invalid_argument("fraction bits must be in [0, 40]");
  }

  int frac_bits() const { return frac_bits_; }
  double scale() const { return std::ldexp(1.0, frac_bits_); }

  u64 encode(double x) const { return static_cast<u64>(static_cast<i64>(std::llround(x * scale()))); }
  double decode(u64 v) const { return static_cast<double>(static_cast<i64>(v)) / scale(); }

  RingMatrix encode(const FloatMatrix& x) const {
    return x.unaryExpr([this](double v) { return encode(v); });
  }
  FloatMatrix decode(const RingMatrix& x) const {
    return x.unaryExpr([this](u64 v) { return decode(v); });
  }

 private:
  int frac_bits_;
};

// Exact arithmetic shift of a two's complement ring element (plaintext reference for truncation).
inline u64 arithmetic_shift(u64 v, int bits) { return static_cast<u64>(static_cast<i64>(v) >> bits); }

}  // namespace mpc
