// Exact probabilistic truncation by 2^bits (protocols/common/exact_truncation.hpp) as a gate of an
// FssRound (key_dealing.hpp), so that a truncation whose input is ready together with comparisons
// or lookups on other values opens in their round instead of one of its own (3PC: shares their
// two rounds instead of adding two).
//
// The key dealer draws the mask r (parts from the seeds it shares with P0 and P1), P0 expands its
// shares of r_low = (r mod 2^63) >> bits and r_msb = r >> 63 from its seed, and P1 receives its
// shares: 16 dealer bytes per element, to P1 only. P0 and P1 open c = x + 2^62 + r mod 2^64
// (uniform) and finish locally as the backends' truncation does: floor(x / 2^bits) or one more,
// for |x| < 2^62.
//
// The product of two truncations in the same round: with c opened, trunc(x) = P - M for a public
// P and M = R + s r_msb (R = r_low's share sum, s = 2^(63-bits) (2 c_msb - 1) public), so
//   trunc(a) trunc(b) = P_a P_b - P_a M_b - P_b M_a + R_a R_b + s_b R_a m_b + s_a m_a R_b + s_a s_b m_a m_b
// is linear in shares of r_low, r_msb and their four cross products, which the dealer deals with
// the masks: the opening of the truncations serves as the product's Beaver opening, one round
// instead of two (3PC: two instead of three), for 64 dealer bytes per element instead of 40.
#pragma once

#include "protocols/fss/key_dealing.hpp"
#include "protocols/protocol.hpp"

#include <optional>

namespace protocols::fss {

class FssTruncation {
 public:
  explicit FssTruncation(KeyDealing& dealing) : dealing_(dealing) {}

  // The gate's result has x's shape. The material is dealt now; nothing at the key dealer.
  // Throws std::invalid_argument unless 0 < bits < 62.
  std::optional<MaskedGate> prepare(const Share& x, int bits);
  // trunc(a, bits) * trunc(b, b_bits) elementwise (a and b of one shape, |a|, |b| < 2^62), as a
  // gate with a's shape; it opens both masked inputs. b_bits = 0 leaves b as it is (then the gate
  // is a product whose first factor is truncated first). The product is taken in the ring: right
  // whenever the truncations' product is below 2^63 in magnitude, and 0 whenever b is.
  std::optional<MaskedGate> prepare_product(const Share& a, const Share& b, int bits, int b_bits);
  static constexpr std::size_t dealer_bytes_per_element() { return 16; }
  static constexpr std::size_t dealer_bytes_per_product() { return 64; }

 private:
  KeyDealing& dealing_;
};

}  // namespace protocols::fss
