// The public tables of the FSS lookup gates (protocols/fss/fss_lookup.hpp) used by SecureOps with
// FSS comparisons, and the local index arithmetic that feeds them.
//
// Indices come from local shifts of the share components, with no communication: for a value v
// held as k additive components (2PC: 2; 3PC: the 3 replicated components), the sum of the
// components shifted right by s is floor(v / 2^s) - c for a carry c in [0, k-1], modulo 2^(64-s).
// A table on fewer than 64 - s bits therefore sees the exact index up to that carry, and never the
// wrap-around, so each table below covers every input cell that a carry can shift into it.
#pragma once

#include "protocols/fss/fss_lookup.hpp"
#include "protocols/protocol.hpp"

namespace protocols::ops {

// Fraction bits of the exp tables' entries: products of two of them stay below 2^62.
inline constexpr int kExpTableBits = 28;
// exp(x) by lookup holds for x >= -kExpLookupRange (beyond, the top table wraps around).
inline constexpr double kExpLookupRange = 250.0;
// Bits of the mantissa tables of 1/m and 1/sqrt(m), m in [0.5, 1).
inline constexpr int kMantissaTableBits = 12;

struct LookupTables {
  // exp(-u) = exp(-lo) * exp(-mid / 128) * exp(-top) for u = lo + 2^c mid + 2^(c+7) top, c = F - 7
  // (SecureOps::exp_negative): mid's and top's factors at kExpTableBits fraction bits.
  fss::LookupTable exp_mid, exp_top;
  // The first guesses of Newton's 1/m and 1/sqrt(m) for the cell of m's top kMantissaTableBits bits,
  // at F fraction bits.
  fss::LookupTable reciprocal, rsqrt;
};

// The tables for `frac_bits` F and shares of `components` additive components (2 or 3).
LookupTables make_lookup_tables(int frac_bits, int components);

// The components of x shifted right by `bits`, each on its own (see above: floor(x / 2^bits) less
// a carry below the number of components).
Share shift_components_right(const Share& x, int bits);

// Components of a share of `backend`: 2 (2PC, also the dealer's shape-only shares) or 3.
int share_components(Backend backend);

}  // namespace protocols::ops
