// The secure non-linear operators of the transformer, written once on top of the arithmetic
// protocol interface and the boolean layer, so they run unchanged on both backends (and on the
// 2PC dealer, which follows the same program with shape-only shares). They are built on an open
// protocols::Session and share its correlated randomness with every other SecureOps of the session.
//
// Conventions: tensors are fixed point with F = proto.fixed_point().frac_bits() fraction bits
// unless a function says "integer"; bits returned by comparisons are arithmetic shares of the
// integers 0 or 1; reductions run over the last axis (columns) of every row at once. The number of
// rounds of every operator depends only on public parameters (the row length for the tree
// reductions and sorts), never on the number of rows or on the data.
#pragma once

#include "protocols/boolean.hpp"
#include "protocols/fss/fss_comparison.hpp"
#include "protocols/fss/fss_lookup.hpp"
#include "protocols/fss/fss_truncation.hpp"
#include "protocols/fss/key_dealing.hpp"
#include "protocols/ops/bit_lanes.hpp"
#include "protocols/ops/lookup_tables.hpp"
#include "protocols/ops/polynomial.hpp"
#include "protocols/protocol.hpp"
#include "protocols/session.hpp"

#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace protocols::ops {

// Mask for softmax: 1 keeps an entry, 0 removes it exactly. Public (integers 0/1) or secret
// (arithmetic shares of integers 0/1).
using SoftmaxMask = std::variant<std::monostate, RingMatrix, Share>;

// The public causal mask of `new_rows` query rows at positions first_position, first_position + 1,
// ... for `heads` stacked heads (heads * new_rows x first_position + new_rows): row h * new_rows + i
// sees key rows 0 .. first_position + i.
RingMatrix causal_mask(int heads, Eigen::Index first_position, Eigen::Index new_rows);

// Scores per block of causal_softmax: GPT-2 small's 12 heads over a 512-token prompt are one block;
// the operator's peak memory on a party is about 500 bytes per score (both backends).
inline constexpr Eigen::Index kCausalSoftmaxBlockElements = Eigen::Index{1} << 22;

// With FSS comparisons, layer_norm and rms_norm need gains below this in magnitude (their
// products stay below 2^62; lookup_approximations.cpp).
inline constexpr double kMaxNormGain = 64.0;

// Extra fraction bits kept in variances, so that variances near 1e-2 keep ~16 significant bits.
inline constexpr int kVarianceExtraBits = 8;

struct ExpOptions {
  // exp(x) ~ (1 + t + t^2/2)^(2^n), t = x / 2^n: n squarings; see docs/operators.md for the error.
  // With FSS comparisons exp runs by table lookups instead (inputs >= -kExpLookupRange) and this
  // is not used.
  int squarings = 7;
  // Inputs below the cut-off become exactly 0 (one comparison more). Without it, inputs must be
  // >= -1.4 * 2^squarings (-180 by default): below, the base 1 + t + t^2/2 grows again.
  std::optional<double> cutoff;
};

struct MaxResult {
  Share max;      // rows x 1
  Share one_hot;  // rows x cols, a single 1 per row at the (first) maximum
};

struct OpsOptions {
  // Group size of the max/argmax tournament: ceil(log_a n) levels of (comparison + ceil(log2(a-1))
  // AND rounds + bit conversion + multiplication), with a(a-1)/2 comparisons per group. 2 is the
  // binary tree (fewest bytes), 4 the default, 8 fewer rounds for ~2.5x the comparison bytes.
  // 0: the default of the comparison method, 4 for the boolean circuit (its comparison rounds
  // dominate) and 2 for FSS (the same rounds as 4 there, and a third of the comparison keys).
  int tournament_arity = 0;
};

class SecureOps {
 public:
  // Local: the operators draw from the session's protocol, boolean backend and (with FSS
  // comparisons) key dealing, which the session set up when it opened (protocols/session.hpp).
  explicit SecureOps(Session& session, OpsOptions options = {});

  Protocol& protocol() { return proto_; }
  BooleanBackend& boolean() { return boolean_; }
  // The comparison method in effect: the session's.
  Comparisons comparisons() const { return fss_ ? Comparisons::fss : Comparisons::boolean; }
  int tournament_arity() const {
    if (options_.tournament_arity != 0) return options_.tournament_arity;
    return comparisons() == Comparisons::fss ? 2 : 4;
  }

  // --- conversions and comparisons -------------------------------------------------------
  // Full bit decomposition (A2B) with a log-depth parallel-prefix (Kogge-Stone) adder.
  BoolShare to_boolean(const Share& x);
  // Most significant bit, in bit 0 of each word (boolean). 2PC: 7 rounds, 3PC: 8 rounds.
  BoolShare msb(const Share& x);
  // The sign of x when |x| < 2^(value_bits - 1) is known (see less_than_zero below), the same layout.
  BoolShare msb(const Share& x, int value_bits);
  Share bit_to_arithmetic(const BoolShare& bits) { return boolean_.bit_to_arithmetic(bits); }
  Share less_than_zero(const Share& x);                 // [x < 0]
  Share less_than(const Share& x, const Share& y);      // [x < y], needs |x - y| < 2^63
  // The same when |x| (or |x - y|) < 2^(value_bits - 1) is known: only the low value_bits bits
  // enter the adder, floor(64 / value_bits) values per word (32 bits: half the bytes, one round
  // less). A value outside the bound gives a wrong bit, so callers state where the bound comes from.
  Share less_than_zero(const Share& x, int value_bits);
  Share less_than(const Share& x, const Share& y, int value_bits);
  Share greater_than(const Share& x, const Share& y) { return less_than(y, x); }
  // bit ? x : y, with `bit` an arithmetic 0/1 share (one multiplication round).
  Share select(const Share& bit, const Share& x, const Share& y);
  Share relu(const Share& x);
  // max(a, b) elementwise when |a - b| < 2^(value_bits - 1): with FSS b + ReLU(a - b) by one gate
  // (one round, 3PC two), otherwise a comparison and a selecting product.
  Share elementwise_max(const Share& a, const Share& b, int value_bits);
  // [x == c] for a public ring matrix c of the same shape. When |x - c| < 2^(width - 1) is known,
  // only the low `width` bits are tested: fewer rounds, and 64 / 2^ceil(log2 width) tests per word.
  // With FSS: one round (3PC: two), a DPF point test up to 12 bits, two comparisons above.
  Share equal_public(const Share& x, const RingMatrix& c, int width = 64);
  // One-hot rows (rows x n) of integer indices (rows x 1, values in [0, n)). With FSS: one DPF per
  // row, one round (3PC: two).
  Share one_hot(const Share& index, Eigen::Index n);

  // --- reductions over the last axis (tournament, see OpsOptions) -----------------------------
  Share max(const Share& x);
  // The same when |x| < 2^(value_bits - 2) is known: the comparisons run on value_bits bits.
  Share max(const Share& x, int value_bits);
  MaxResult argmax(const Share& x);
  // The same when |x| < 2^(value_bits - 2) is known (comparisons on value_bits bits).
  MaxResult argmax(const Share& x, int value_bits);
  // Top-k of every row; returns, per row, a k x n secret one-hot selection in descending order of
  // value, equal values ordered by index (lower first). The values must satisfy
  // |x| < 2^(value_bits - 2), so that comparisons run on value_bits bits (see less_than_zero; the
  // default leaves 2^30 in real units at F = 16). Short rows (n(n-1)/2 comparisons at most twice
  // the bitonic network's) rank every value against every other in one comparison batch and pick
  // the ranks 0..k-1 by equality tests: a constant ~15 rounds. Longer rows run a bitonic sorting
  // network on (value, index) keys (value_bits + log2 n bits, at most 64): rounds grow with log^2 n.
  std::vector<Share> top_k(const Share& x, Eigen::Index k, int value_bits = 48);
  std::vector<Share> top_k_by_rank(const Share& x, Eigen::Index k, int value_bits = 48);
  std::vector<Share> top_k_bitonic(const Share& x, Eigen::Index k, int value_bits = 48);
  // Rows of `matrix` picked by a secret one-hot selection (k x n) . (n x d): one matmul round.
  Share gather_rows(const Share& selection, const Share& matrix);

  // --- smooth functions ----------------------------------------------------------------------
  Share exp_negative(const Share& x, const ExpOptions& options = {});
  // 1/x and 1/sqrt(x) for 0 < x < 2^max_input_log2() (in real units).
  Share reciprocal(const Share& x);
  Share rsqrt(const Share& x);
  // 1/sqrt(x) for x encoded with `input_frac_bits` fraction bits (result with F): lets callers keep
  // small variances at a higher precision.
  Share rsqrt_scaled(const Share& x, int input_frac_bits);
  int max_input_log2() const { return normalize_bits_ - proto_.fixed_point().frac_bits(); }
  // GeLU and SiLU; with value_bits < 64, |x| < 2^(value_bits - 2) must be known (the range
  // comparisons then run on fewer bits; the operator widens them to cover its own thresholds).
  // x may carry raw_bits fraction bits more than F (a product not yet truncated, |x| below
  // 2^(value_bits - 2 + raw_bits)); the result has F. With FSS that truncation shares the first
  // round (the range tests and the cell's index read x shifted locally), otherwise it comes first.
  Share gelu(const Share& x, int value_bits = 64, int raw_bits = 0);
  Share silu(const Share& x, int value_bits = 64, int raw_bits = 0);

  // --- composite operators -------------------------------------------------------------------
  // With value_bits < 64, |x| < 2^(value_bits - 2) must be known: the max tournament then
  // compares on fewer bits (widened to cover the masked entries' offset).
  Share softmax(const Share& x, const SoftmaxMask& mask = {}, int value_bits = 64);
  // The softmax of stacked causal attention scores (heads * new_rows x first_position + new_rows,
  // laid out as causal_mask's), run in blocks of query rows, each over its causal prefix only and
  // with at most `block_elements` scores: the working memory is one block's, whatever the prompt
  // length, and the masked triangle beyond each block's prefix is not computed. Entries beyond a
  // row's position are exactly 0. Each block costs the softmax's rounds once; a prompt within the
  // budget is one block, the same call as softmax with causal_mask.
  Share causal_softmax(const Share& scores, int heads, Eigen::Index first_position,
                       Eigen::Index block_elements = kCausalSoftmaxBlockElements, int value_bits = 64);
  // gain and bias are 1 x cols (secret); normalisation over the last axis. `row_means` (rows x 1),
  // when the caller knows the rows' means already, replaces their computation and its truncation
  // round (the secure transformer's residual stream keeps the embedding's mean: every write to it
  // sums to zero).
  Share layer_norm(const Share& x, const Share& gain, const Share& bias, double eps = 1e-5,
                   const Share* row_means = nullptr);
  // The mean of every row (rows x 1): one truncation.
  Share row_mean(const Share& x);
  Share rms_norm(const Share& x, const Share& gain, double eps = 1e-6);

 private:
  struct Normalized {
    Share scaled;   // x * 2^(K-1-j): the mantissa m = scaled / 2^K in [0.5, 1), K = normalize_bits_
    Share one_hot;  // (rows*cols) x normalize_bits_: position of the highest set bit j (integers)
  };
  BoolShare carries(const BoolShare& a, const BoolShare& b, int width, const LaneLayout& lanes);
  Share bits_as_arithmetic(const BoolShare& x, int count);
  Normalized normalize(const Share& x);
  // One-hot (rows*cols x K) of the highest set bit of x, 0 < x < 2^K, by one batch of FSS comparisons.
  Share highest_bit_by_comparisons(const Share& x, int K);
  // The same comparisons ([x < 2^j], rows*cols x K) as a gate of an FSS round shared with other
  // gates, and the one-hot from their result.
  std::optional<fss::MaskedGate> prepare_highest_bit(const Share& x, int K);
  Share highest_bit_from_comparisons(const Share& below, int K);
  Share scale_by_exponent(const Share& y, const Share& one_hot, const std::vector<double>& factors, Eigen::Index rows,
                          Eigen::Index cols);
  Share newton_reciprocal(const Share& m);
  Share newton_rsqrt(const Share& m);
  Share mantissa(const Normalized& n);
  // With FSS: exp, and 1/m and 1/sqrt(m) of the mantissa, by table lookups (lookup_approximations.cpp).
  Share exp_by_lookup(const Share& x);
  Share exp_by_squaring(const Share& x, int squarings);
  Share reciprocal_by_lookup(const Share& scaled);
  Share rsqrt_by_lookup(const Share& scaled);
  Share lookup(const Share& index, const fss::LookupTable& table);
  Share activation_by_lookup(const Share& x, const ActivationTable& table, int value_bits, int raw_bits);
  Share activation(const Share& x, const ActivationTable* table, const EvenPolynomial& poly, int value_bits, int raw_bits);
  Share max_by_relu(const Share& x, int value_bits);
  MaxResult argmax_by_relu(const Share& x, int value_bits);
  Share equal_zero_by_fss(const Share& d, int width);
  std::vector<Share> rank_one_hots(const Share& ranks, Eigen::Index k);
  Share divide_by_row_sum_by_lookup(const Share& e);
  Share normalize_rows_by_lookup(const Share& raw_scaled, const Share& raw_sum_sq, Eigen::Index d, double eps);
  const fss::LookupTable& norm_table(Eigen::Index d);
  Share piecewise_odd_plus_even(const Share& x, const EvenPolynomial& poly, int value_bits);
  Share mul_fp(const Share& x, const Share& y);
  RingMatrix fixed_matrix(Eigen::Index rows, Eigen::Index cols, double value) const;
  Share normalize_rows(const Share& scaled, const Share& mean_square, double eps);

  Protocol& proto_;
  OpsOptions options_;
  BooleanBackend& boolean_;
  // Set when comparisons run by FSS: the session's key dealing, its comparison and lookup gates,
  // the tables.
  fss::KeyDealing* key_dealing_;
  std::optional<fss::FssComparison> fss_;
  std::optional<fss::FssLookup> fss_lookup_;
  std::optional<fss::FssTruncation> fss_truncation_;
  std::optional<LookupTables> tables_;
  std::map<Eigen::Index, fss::LookupTable> norm_tables_;  // by row length d (norm_rsqrt_table)
  int normalize_bits_;
  EvenPolynomial gelu_poly_;
  EvenPolynomial silu_poly_;
};

}  // namespace protocols::ops
