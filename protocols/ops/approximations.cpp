// exp, reciprocal, rsqrt, GeLU and SiLU (protocols/ops/secure_ops.hpp).
#include "protocols/ops/secure_ops.hpp"
#include "protocols/ops/share_layout.hpp"

#include <cmath>
#include <stdexcept>

namespace protocols::ops {

namespace {
// Working precision of the exp squarings: y <= 1, so y^2 * 2^(2*30) stays below 2^62 and each
// squaring adds an error of 2^-30 instead of 2^-F.
constexpr int kExpBits = 30;
// 1/m ~ c3 m^3 + c2 m^2 + c1 m + c0 on [0.5, 1) (least squares in relative error: 3.6e-3), refined
// by one Newton step (then 1.3e-5).
constexpr double kReciprocalGuess[4] = {-3.3845163705308585, 10.227355525717833, -11.409123783529239, 5.563664489822746};
constexpr int kReciprocalNewtonSteps = 1;
// 1/sqrt(m) ~ a m^2 + b m + c on [0.5, 1) (least squares in relative error: 5.8e-3), refined by one
// Newton step (then 5e-5).
constexpr double kRsqrtGuess[3] = {0.8067816, -2.01373342, 2.21123702};
constexpr int kRsqrtNewtonSteps = 1;
// Extra fraction bits of the rsqrt exponent factors 2^((F_in - j - 1) / 2).
constexpr int kRsqrtFactorBits = 24;

u64 signed_ring(std::int64_t v) { return static_cast<u64>(v); }
}  // namespace

RingMatrix SecureOps::fixed_matrix(Eigen::Index rows, Eigen::Index cols, double value) const {
  return filled(rows, cols, proto_.fixed_point().encode(value));
}

Share SecureOps::mul_fp(const Share& x, const Share& y) { return proto_.truncate(proto_.mul(x, y)); }

// exp(x) = exp(t)^(2^n) with t = x / 2^n and exp(t) ~ 1 + t + t^2/2: the relative error is about
// |x|^3 / (6 * 4^n), far below the first-order base's x^2 / 2^(n+1) at the same number of rounds.
Share SecureOps::exp_by_squaring(const Share& x, int squarings) {
  const int n = squarings, f = proto_.fixed_point().frac_bits();
  if (n < 1 || n > 12) throw std::invalid_argument("exp_negative: squarings must be in [1, 12]");
  // The base at kExpBits fraction bits: x/2^n is a shift of x's encoding, t^2/2 one truncation.
  const int shift = kExpBits - f - n;
  const int square_drop = 2 * f + 2 * n + 1 - kExpBits;
  if (shift < 0 || square_drop < 1) throw std::invalid_argument("exp_negative: unsupported fraction bits / squarings");
  const Share half_t_squared = proto_.truncate(proto_.mul(x, x), square_drop);
  Share y = proto_.add(proto_.scale(x, u64{1} << shift), half_t_squared);
  y = proto_.add_public(y, filled(x.rows(), x.cols(), u64{1} << kExpBits));
  for (int i = 0; i < n; ++i) {
    const bool last = i + 1 == n;
    // The last squaring also drops back from kExpBits to F fraction bits.
    y = proto_.truncate(proto_.mul(y, y), last ? 2 * kExpBits - f : kExpBits);
  }
  return y;
}

// With FSS by table lookups (lookup_approximations.cpp), otherwise by squaring; then the cut-off.
Share SecureOps::exp_negative(const Share& x, const ExpOptions& options) {
  Share y = tables_ ? exp_by_lookup(x) : exp_by_squaring(x, options.squarings);
  if (options.cutoff) {
    const Share below = less_than_zero(proto_.add_public(x, fixed_matrix(x.rows(), x.cols(), -*options.cutoff)));
    y = proto_.sub(y, proto_.mul(below, y));
  }
  return y;
}

Share SecureOps::bits_as_arithmetic(const BoolShare& x, int count) {
  // Element e's bit j goes to row e, column j; bit extraction is linear over XOR, so it is local.
  const auto spread = [count](const RingMatrix& m) -> RingMatrix {
    RingMatrix out(m.size(), count);
    for (Eigen::Index e = 0; e < m.size(); ++e) {
      for (int j = 0; j < count; ++j) out(e, j) = (m.data()[e] >> j) & 1u;
    }
    return out;
  };
  return boolean_.bit_to_arithmetic(map_components(x, spread));
}

namespace {
// x - 2^j for every element of x (rows) and j < K (columns).
Share minus_powers(const Protocol& proto, const Share& x, int K) {
  const Eigen::Index n = x.rows() * x.cols();
  RingMatrix powers(n, K);
  for (int j = 0; j < K; ++j) powers.col(j).setConstant(u64{0} - (u64{1} << j));
  return proto.add_public(broadcast_column(reshape(x, n, 1), K), powers);
}
}  // namespace

// x = m * 2^(j+1-F) with m in [0.5, 1): the highest set bit j of x's encoding as a one-hot
// (prefix OR from the top, then the difference of neighbours), and m = x * 2^(K-1-j) / 2^(K-F).
// With FSS comparisons: c_j = [x >= 2^j] for all j in one batch (|x - 2^j| < 2^K, so K + 1 bits),
// and the highest set bit is c_j - c_(j+1): one round instead of a bit decomposition and an OR tree.
Share SecureOps::highest_bit_by_comparisons(const Share& x, int K) {
  return highest_bit_from_comparisons(less_than_zero(minus_powers(proto_, x, K), K + 1), K);
}

std::optional<fss::MaskedGate> SecureOps::prepare_highest_bit(const Share& x, int K) {
  return fss_->prepare(minus_powers(proto_, x, K), K + 1);
}

// [x >= 2^j] - [x >= 2^(j+1)]: 1 at the highest set bit only.
Share SecureOps::highest_bit_from_comparisons(const Share& below, int K) {
  const Eigen::Index n = below.rows();
  const Share at_least = proto_.add_public(proto_.neg(below), filled(n, K, 1));
  const Share parts[] = {columns(at_least, 1, K - 1), zeros(proto_, n, 1)};
  return proto_.sub(at_least, concat_columns(parts));
}

SecureOps::Normalized SecureOps::normalize(const Share& x) {
  const int K = normalize_bits_;
  if (fss_) {
    Share one_hot_bits = highest_bit_by_comparisons(x, K);
    Share scaled = scale_by_exponent(x, one_hot_bits, {}, x.rows(), x.cols());
    return Normalized{std::move(scaled), std::move(one_hot_bits)};
  }
  BooleanBackend& B = boolean_;
  BoolShare ones_below = BooleanBackend::and_public(to_boolean(x), (u64{1} << K) - 1);
  for (int k = 1; k < K; k *= 2) {  // a | b = ~(~a & ~b)
    ones_below = B.not_(B.and_(B.not_(ones_below), B.not_(BooleanBackend::shift_right(ones_below, k))));
  }
  const BoolShare highest = BooleanBackend::xor_(ones_below, BooleanBackend::shift_right(ones_below, 1));
  Share one_hot_bits = bits_as_arithmetic(highest, K);
  Share scaled = scale_by_exponent(x, one_hot_bits, {}, x.rows(), x.cols());
  return Normalized{std::move(scaled), std::move(one_hot_bits)};
}

// m at F fraction bits.
Share SecureOps::mantissa(const Normalized& n) {
  return proto_.truncate(n.scaled, normalize_bits_ - proto_.fixed_point().frac_bits());
}

// y * (sum_j one_hot_j * factor_j), unscaled: factor_j = 2^(K-1-j) when `factors` is empty,
// otherwise the given integers. The caller truncates.
Share SecureOps::scale_by_exponent(const Share& y, const Share& one_hot, const std::vector<double>& factors,
                                   Eigen::Index rows, Eigen::Index cols) {
  const int K = normalize_bits_;
  RingMatrix column(K, 1);
  for (int j = 0; j < K; ++j) {
    column(j, 0) = factors.empty() ? u64{1} << (K - 1 - j) : signed_ring(std::llround(factors[static_cast<std::size_t>(j)]));
  }
  const Share per_element = reshape(proto_.matmul_public(one_hot, column), rows, cols);
  return proto_.mul(y, per_element);
}

// y0 = cubic in m (least squares on [0.5, 1], within 0.36% of 1/m) in 5 rounds (m^2, m^3, one
// truncation of the sum), then one Newton step y <- y (2 - m y) (error e^2: 1.3e-5) in 4: 9 rounds
// instead of the 12 of a linear guess and three steps.
Share SecureOps::newton_reciprocal(const Share& m) {
  const int f = proto_.fixed_point().frac_bits();
  const mpc::FixedPoint& fp = proto_.fixed_point();
  const Share squared = mul_fp(m, m);
  const Share cubed = mul_fp(squared, m);
  Share y = proto_.add(proto_.scale(cubed, fp.encode(kReciprocalGuess[0])), proto_.scale(squared, fp.encode(kReciprocalGuess[1])));
  y = proto_.add(y, proto_.scale(m, fp.encode(kReciprocalGuess[2])));
  y = proto_.truncate(proto_.add_public(y, filled(m.rows(), m.cols(), fp.encode(kReciprocalGuess[3]) << f)), f);
  for (int i = 0; i < kReciprocalNewtonSteps; ++i) {
    const Share my = mul_fp(m, y);  // y <- y (2 - m y)
    y = mul_fp(y, proto_.add_public(proto_.neg(my), fixed_matrix(m.rows(), m.cols(), 2.0)));
  }
  return y;
}

// y0 = a m^2 + b m + c (least squares on [0.5, 1], within 0.6% of 1/sqrt(m)) in 3 rounds, then one
// Newton step y <- (3y - m y^3) / 2 (error 1.5 e^2: below 6e-5) in 4: y^2 and m y in one batch, their
// product, and one truncation that also halves. 7 rounds instead of the 18 of a linear guess and
// three steps.
Share SecureOps::newton_rsqrt(const Share& m) {
  const int f = proto_.fixed_point().frac_bits();
  const mpc::FixedPoint& fp = proto_.fixed_point();
  const Share squared = mul_fp(m, m);
  Share y = proto_.add(proto_.scale(squared, fp.encode(kRsqrtGuess[0])), proto_.scale(m, fp.encode(kRsqrtGuess[1])));
  y = proto_.truncate(proto_.add_public(y, filled(m.rows(), m.cols(), fp.encode(kRsqrtGuess[2]) << f)), f);
  for (int i = 0; i < kRsqrtNewtonSteps; ++i) {
    const Share lhs[] = {y, m}, rhs[] = {y, y};
    const std::vector<Share> y2_my = proto_.truncate(proto_.mul(lhs, rhs), f);
    const Share my3 = proto_.mul(y2_my[0], y2_my[1]);  // 2F fraction bits
    y = proto_.truncate(proto_.sub(proto_.scale(y, u64{3} << f), my3), f + 1);
  }
  return y;
}

Share SecureOps::reciprocal(const Share& x) {
  const int f = proto_.fixed_point().frac_bits();
  const Normalized n = normalize(x);
  const Share y = tables_ ? reciprocal_by_lookup(n.scaled) : newton_reciprocal(mantissa(n));
  return proto_.truncate(scale_by_exponent(y, n.one_hot, {}, x.rows(), x.cols()), normalize_bits_ - f);
}

Share SecureOps::rsqrt(const Share& x) { return rsqrt_scaled(x, proto_.fixed_point().frac_bits()); }

Share SecureOps::rsqrt_scaled(const Share& x, int input_frac_bits) {
  const Normalized n = normalize(x);
  const Share y = tables_ ? rsqrt_by_lookup(n.scaled) : newton_rsqrt(mantissa(n));
  std::vector<double> factors(static_cast<std::size_t>(normalize_bits_));
  for (int j = 0; j < normalize_bits_; ++j) {
    factors[static_cast<std::size_t>(j)] = std::ldexp(std::pow(2.0, (input_frac_bits - j - 1) / 2.0), kRsqrtFactorBits);
  }
  return proto_.truncate(scale_by_exponent(y, n.one_hot, factors, x.rows(), x.cols()), kRsqrtFactorBits);
}

}  // namespace protocols::ops
