// softmax, LayerNorm and RMSNorm over the last axis (protocols/ops/secure_ops.hpp).
#include "protocols/ops/secure_ops.hpp"
#include "protocols/ops/share_layout.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

namespace protocols::ops {

namespace {
// Masked logits are pushed this far below the rest before the max, so they never win it.
constexpr double kMaskedOffset = 4096.0;
// Extra fraction bits of the public constant 1/d in means (2^-14 relative error is too coarse at F).
constexpr int kMeanBits = 14;
// Fraction bits of the constant 1/d applied to the sum of squares.
constexpr int kVarianceConstBits = 24;

RingMatrix to_ring(const RingMatrix& zero_one, double scale_value, const mpc::FixedPoint& fp) {
  return zero_one.unaryExpr([&](u64 v) { return v * fp.encode(scale_value); });
}

// Bits of the max over masked logits when |x| < 2^(value_bits - 2): a masked entry reaches
// |x| + kMaskedOffset < 2^(max(value_bits - 2, F + log2 kMaskedOffset) + 1).
int masked_max_bits(int value_bits, int frac_bits, bool masked) {
  if (value_bits >= 64 || !masked) return value_bits;
  const int offset_bits = frac_bits + static_cast<int>(std::log2(kMaskedOffset));
  return std::min(64, std::max(value_bits - 2, offset_bits) + 3);
}
}  // namespace

RingMatrix causal_mask(int heads, Eigen::Index first_position, Eigen::Index new_rows) {
  RingMatrix mask = RingMatrix::Zero(heads * new_rows, first_position + new_rows);
  for (int h = 0; h < heads; ++h)
    for (Eigen::Index i = 0; i < new_rows; ++i) mask.row(h * new_rows + i).head(first_position + i + 1).setOnes();
  return mask;
}

Share SecureOps::softmax(const Share& x, const SoftmaxMask& mask, int value_bits) {
  const auto r = x.rows(), c = x.cols();
  if (value_bits < 3 || value_bits > 64) throw std::invalid_argument("softmax: value bits must be in [3, 64]");
  const mpc::FixedPoint& fp = proto_.fixed_point();
  Share logits = x;
  if (const auto* pub = std::get_if<RingMatrix>(&mask)) {
    if (pub->rows() != r || pub->cols() != c) throw std::invalid_argument("softmax: mask shape differs from the input");
    for (Eigen::Index i = 0; i < r; ++i) {
      if ((pub->row(i).array() > u64{1}).any()) throw std::invalid_argument("softmax: a public mask holds 0 or 1 only");
      if (pub->row(i).sum() == 0) throw std::invalid_argument("softmax: every row needs at least one unmasked entry");
    }
    // x - (1 - mask) * offset
    logits = proto_.add_public(x, RingMatrix(to_ring(*pub, kMaskedOffset, fp) - fixed_matrix(r, c, kMaskedOffset)));
  } else if (const auto* secret = std::get_if<Share>(&mask)) {
    if (secret->rows() != r || secret->cols() != c) throw std::invalid_argument("softmax: mask shape differs from the input");
    logits = proto_.add_public(proto_.add(x, proto_.scale(*secret, fp.encode(kMaskedOffset))), fixed_matrix(r, c, -kMaskedOffset));
  }
  const bool masked = !std::holds_alternative<std::monostate>(mask);
  const Share row_max = max(logits, masked_max_bits(value_bits, fp.frac_bits(), masked));
  Share e = exp_negative(proto_.sub(logits, broadcast_column(row_max, c)));
  // Masked entries become exactly 0 (their exp input may be far outside the exp's range).
  if (const auto* pub = std::get_if<RingMatrix>(&mask)) e = proto_.mul_public(e, *pub);
  if (const auto* secret = std::get_if<Share>(&mask)) e = proto_.mul(e, *secret);
  // The maximum contributes exp(0) = 1, so the sum lies in [1, c].
  if (tables_) return divide_by_row_sum_by_lookup(e);
  const Share inverse = reciprocal(row_sum(e));
  return mul_fp(e, broadcast_column(inverse, c));
}

namespace {
// The end of the block of query rows that starts at `first`: as many rows as keep the block's
// scores (heads x rows x its causal prefix) within the budget, and at least one.
Eigen::Index causal_block_end(int heads, Eigen::Index first_position, Eigen::Index first, Eigen::Index new_rows,
                              Eigen::Index block_elements) {
  Eigen::Index end = first + 1;
  while (end < new_rows && heads * (end + 1 - first) * (first_position + end + 1) <= block_elements) ++end;
  return end;
}
}  // namespace

Share SecureOps::causal_softmax(const Share& scores, int heads, Eigen::Index first_position, Eigen::Index block_elements,
                                int value_bits) {
  const Eigen::Index new_rows = heads > 0 ? scores.rows() / heads : 0, width = scores.cols();
  if (new_rows <= 0 || new_rows * heads != scores.rows() || first_position < 0 || width != first_position + new_rows) {
    throw std::invalid_argument("causal_softmax: scores must be heads * new_rows x first_position + new_rows");
  }
  if (causal_block_end(heads, first_position, 0, new_rows, block_elements) == new_rows) {
    return softmax(scores, causal_mask(heads, first_position, new_rows), value_bits);
  }
  std::vector<std::vector<Share>> blocks_of_head(static_cast<std::size_t>(heads));
  for (Eigen::Index first = 0; first < new_rows;) {
    const Eigen::Index end = causal_block_end(heads, first_position, first, new_rows, block_elements);
    const Eigen::Index rows = end - first, seen = first_position + end;
    std::vector<Share> block;
    for (int h = 0; h < heads; ++h) block.push_back(columns(rows_of(scores, h * new_rows + first, rows), 0, seen));
    const Share probs = softmax(concat_rows(block), causal_mask(heads, first_position + first, rows), value_bits);
    for (int h = 0; h < heads; ++h) {
      Share head = rows_of(probs, h * rows, rows);
      if (seen < width) head = concat_columns(std::vector<Share>{std::move(head), zeros(proto_, rows, width - seen)});
      blocks_of_head[static_cast<std::size_t>(h)].push_back(std::move(head));
    }
    first = end;
  }
  std::vector<Share> heads_rows;
  for (const auto& blocks : blocks_of_head) heads_rows.push_back(concat_rows(blocks));
  return concat_rows(heads_rows);
}

namespace {
Share replicate_rows(const Share& row, Eigen::Index rows) {
  return map_components(row, [rows](const RingMatrix& m) -> RingMatrix { return m.replicate(rows, 1); });
}
}  // namespace

// scaled / sqrt(mean_square + eps); scaled and mean_square hold F + kVarianceExtraBits bits.
Share SecureOps::normalize_rows(const Share& scaled, const Share& mean_square, double eps) {
  const int fv = proto_.fixed_point().frac_bits() + kVarianceExtraBits;
  const auto r = scaled.rows(), c = scaled.cols();
  const Share shifted = proto_.add_public(mean_square, filled(r, 1, static_cast<u64>(std::llround(std::ldexp(eps, fv)))));
  const Share inv_std = rsqrt_scaled(shifted, fv);
  return proto_.truncate(proto_.mul(scaled, broadcast_column(inv_std, c)), fv);
}

Share SecureOps::row_mean(const Share& x) {
  const int f = proto_.fixed_point().frac_bits();
  const u64 inv_d_mean = static_cast<u64>(std::llround(std::ldexp(1.0 / static_cast<double>(x.cols()), f + kMeanBits)));
  return proto_.truncate(proto_.scale(row_sum(x), inv_d_mean), f + kMeanBits);
}

Share SecureOps::layer_norm(const Share& x, const Share& gain, const Share& bias, double eps, const Share* row_means) {
  const auto r = x.rows(), c = x.cols();
  if (gain.rows() != 1 || gain.cols() != c || bias.rows() != 1 || bias.cols() != c) {
    throw std::invalid_argument("layer_norm: gain and bias must be 1 x cols");
  }
  if (row_means && (row_means->rows() != r || row_means->cols() != 1))
    throw std::invalid_argument("layer_norm: the known row means must be rows x 1");
  const int f = proto_.fixed_point().frac_bits();
  const Share mean = row_means ? *row_means : row_mean(x);
  const Share centered = proto_.sub(x, broadcast_column(mean, c));
  // Squares and the gain product in one round; their truncations in one more (with FSS, in the
  // round of the normalisation's first comparisons).
  const Share lhs[] = {centered, centered};
  const Share rhs[] = {centered, replicate_rows(gain, r)};
  const auto products = proto_.mul(lhs, rhs);
  if (tables_) return proto_.add(normalize_rows_by_lookup(products[1], row_sum(products[0]), c, eps), replicate_rows(bias, r));
  // Both keep F + kVarianceExtraBits bits: one truncation round for the two.
  const Share to_truncate[] = {row_sum(products[0]), products[1]};
  const auto truncated = proto_.truncate(std::span<const Share>(to_truncate), f - kVarianceExtraBits);
  const Share& sum_sq = truncated[0];
  const Share& centered_gain = truncated[1];
  const u64 inv_d_var = static_cast<u64>(std::llround(std::ldexp(1.0 / static_cast<double>(c), kVarianceConstBits)));
  const Share variance = proto_.truncate(proto_.scale(sum_sq, inv_d_var), kVarianceConstBits);
  return proto_.add(normalize_rows(centered_gain, variance, eps), replicate_rows(bias, r));
}

Share SecureOps::rms_norm(const Share& x, const Share& gain, double eps) {
  const auto r = x.rows(), c = x.cols();
  if (gain.rows() != 1 || gain.cols() != c) throw std::invalid_argument("rms_norm: gain must be 1 x cols");
  const int f = proto_.fixed_point().frac_bits();
  const Share lhs[] = {x, x};
  const Share rhs[] = {x, replicate_rows(gain, r)};
  const auto products = proto_.mul(lhs, rhs);
  if (tables_) return normalize_rows_by_lookup(products[1], row_sum(products[0]), c, eps);
  const Share to_truncate[] = {row_sum(products[0]), products[1]};
  const auto truncated = proto_.truncate(std::span<const Share>(to_truncate), f - kVarianceExtraBits);
  const Share& sum_sq = truncated[0];
  const Share& x_gain = truncated[1];
  const u64 inv_d = static_cast<u64>(std::llround(std::ldexp(1.0 / static_cast<double>(c), kVarianceConstBits)));
  const Share mean_square = proto_.truncate(proto_.scale(sum_sq, inv_d), kVarianceConstBits);
  return normalize_rows(x_gain, mean_square, eps);
}

}  // namespace protocols::ops
