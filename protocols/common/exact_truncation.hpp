// The arithmetic of exact probabilistic truncation by a public power of two, shared by both
// backends (after Dalskov et al., "Secure evaluation of quantized neural networks", 3.2.2).
//
// For |x| < 2^62 let a = x + 2^62, so 0 <= a < 2^63. With a random r = r_msb * 2^63 + r_low'
// (r_low' < 2^63), open c = a + r mod 2^64 (uniform, reveals nothing). Then, with c' = c mod 2^63,
// the carry into bit 63 of a + r_low' is w = c_msb XOR r_msb = c_msb + r_msb - 2 c_msb r_msb, and
//   floor(a / 2^d) = (c' >> d) - (r_low' >> d) + 2^(63-d) w - borrow,   borrow in {0, 1},
// where the borrow (from the low d bits of c' - r_low') is not computed, so the result is
// floor(x / 2^d) or floor(x / 2^d) + 1: one unit in the last place at most, and
// no wrap-around failure anywhere in |x| < 2^62 (unlike local share truncation).
// Every term is linear in the shares of r_low = r_low' >> d and r_msb, so each party finishes locally.
#pragma once

#include "mpc/ring.hpp"

namespace protocols {

inline constexpr mpc::u64 kTruncationOffset = mpc::u64{1} << 62;

// Throws std::invalid_argument unless 0 < bits < 62.
void check_truncation_bits(int bits);

// This party's share of the truncated value, given the opened c and its shares of r_low and r_msb.
// Exactly one party adds the public part (`public_part`).
mpc::RingMatrix truncated_share(const mpc::RingMatrix& c, const mpc::RingMatrix& r_low, const mpc::RingMatrix& r_msb,
                                int bits, bool public_part);

}  // namespace protocols
