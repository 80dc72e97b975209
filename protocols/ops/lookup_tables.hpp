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
// Bits of the mantissa tables of 1/m and 1/sqrt(m), m in [0.5, 1): a guess within 3 * 2^-17
// relative error (3PC; 2PC 2^-16), used alone by softmax and the normalisations and refined by a
// Newton step in reciprocal and rsqrt. Such lookups run once per row (softmax sums, variances), so
// the 65,536 entries cost little.
inline constexpr int kMantissaTableBits = 16;

// Fraction bits of the activation tables' slopes beyond F.
inline constexpr int kSlopeExtraBits = 8;

// A GeLU-like f (0 far below, x far above) as one line per cell of width 2^-step_log2 on
// [-threshold, threshold]: f(x) ~ intercept[i] + slope[i] x for the cell i of x + offset (a local
// shift of the components, less a carry: each line is fitted over every x a carry can bring into its
// cell). Outside, 0 below and x above, by two comparisons.
struct ActivationTable {
  double threshold = 0;
  double offset = 0;   // x + offset is at least 4 cells above 0 inside [-threshold, threshold]
  int step_log2 = 0;
  fss::LookupTable intercept;  // F fraction bits
  fss::LookupTable slope;      // F + kSlopeExtraBits fraction bits
};

ActivationTable make_activation_table(double (*f)(double), int bits, int step_log2, int frac_bits, int components);

struct LookupTables {
  // exp(-u) = exp(-lo) * exp(-mid / 128) * exp(-top) for u = lo + 2^c mid + 2^(c+7) top, c = F - 7
  // (SecureOps::exp_negative): mid's and top's factors at kExpTableBits fraction bits.
  fss::LookupTable exp_mid, exp_top;
  // The first guesses of Newton's 1/m and 1/sqrt(m) for the cell of m's top kMantissaTableBits bits,
  // at F fraction bits.
  fss::LookupTable reciprocal, rsqrt;
  // GeLU: 1024 cells of 1/64 (threshold 7.94; lines within 1.2e-4 in 3PC, 5e-5 in 2PC); SiLU: 1024
  // cells of 1/32 (threshold 15.9; within 2.7e-4 and 1.2e-4).
  ActivationTable gelu, silu;
};

// Normalisation width of the FSS normalisations (LayerNorm, RMSNorm): inputs below 2^60.
inline constexpr int kWideNormalizeBits = 60;

// 1/sqrt of the mantissa for LayerNorm/RMSNorm over rows of d: entry p * 2^16 + i holds
// m^(-1/2) 2^(p/2) r_d at F fraction bits for m's cell i and the exponent's parity p, where
// sqrt(d) = 2^a r_d, r_d in [1, 2) (SecureOps::normalize_rows_by_lookup).
fss::LookupTable norm_rsqrt_table(Eigen::Index d, int frac_bits, int components);

// The tables for `frac_bits` F and shares of `components` additive components (2 or 3).
LookupTables make_lookup_tables(int frac_bits, int components);

// The components of x shifted right by `bits`, each on its own (see above: floor(x / 2^bits) less
// a carry below the number of components).
Share shift_components_right(const Share& x, int bits);

// Components of a share of `backend`: 2 (2PC, also the dealer's shape-only shares) or 3.
int share_components(Backend backend);

}  // namespace protocols::ops
