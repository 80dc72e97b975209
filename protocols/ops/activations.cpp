// GeLU and SiLU as x/2 + P((x/T)^2) on [-T, T], 0 below and x above (protocols/ops/polynomial.hpp).
#include "protocols/ops/secure_ops.hpp"
#include "protocols/ops/share_layout.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace protocols::ops {

namespace {
// Fraction bits of the powers v^k: v <= 1 inside [-T, T], so products stay below 2^60.
constexpr int kPowerBits = 30;

// v^1 .. v^degree, doubling the known powers each level: ceil(log2 degree) multiplication levels.
std::vector<Share> powers(Protocol& proto, const Share& v, int degree) {
  std::vector<Share> p{v};
  while (static_cast<int>(p.size()) < degree) {
    const int known = static_cast<int>(p.size());
    std::vector<Share> lhs, rhs;
    for (int i = 0; i < known && known + i + 1 <= degree; ++i) {
      lhs.push_back(p[static_cast<std::size_t>(known - 1)]);
      rhs.push_back(p[static_cast<std::size_t>(i)]);
    }
    for (auto& s : proto.truncate(proto.mul(lhs, rhs), kPowerBits)) p.push_back(std::move(s));
  }
  return p;
}

void check_activation_bits(int value_bits) {
  if (value_bits < 3 || value_bits > 64) throw std::invalid_argument("activation: value bits must be in [3, 64]");
}

// Bits of the range comparisons [x + T < 0] and [T - x < 0] when |x| < 2^(value_bits - 2):
// |x -/+ T| < 2^(value_bits - 2) + T <= 2^(max(value_bits - 2, F + ceil(log2 T)) + 1).
int range_test_bits(int value_bits, int frac_bits, double threshold) {
  if (value_bits >= 64) return 64;
  const int threshold_bits = frac_bits + static_cast<int>(std::ceil(std::log2(threshold)));
  return std::min(64, std::max(value_bits - 2, threshold_bits) + 2);
}
}  // namespace

Share SecureOps::piecewise_odd_plus_even(const Share& x, const EvenPolynomial& poly, int value_bits) {
  const int f = proto_.fixed_point().frac_bits();
  const int log2_t = std::ilogb(poly.threshold);
  if (std::ldexp(1.0, log2_t) != poly.threshold) throw std::invalid_argument("activation threshold must be a power of two");
  const auto r = x.rows(), c = x.cols();

  // Which piece: below -T, above T, or inside (both comparisons in one batch).
  const Share bounds[] = {proto_.add_public(x, fixed_matrix(r, c, poly.threshold)),
                          proto_.add_public(proto_.neg(x), fixed_matrix(r, c, poly.threshold))};
  const Share outside = less_than_zero(concat_rows(bounds), range_test_bits(value_bits, f, poly.threshold));
  const Share below = rows_of(outside, 0, r), above = rows_of(outside, r, r);
  const Share inside = proto_.add_public(proto_.neg(proto_.add(below, above)), filled(r, c, 1));

  // v = (x/T)^2 at kPowerBits and x/2 at F bits come out of one truncation by `drop` bits.
  const int drop = 2 * f + 2 * log2_t - kPowerBits;
  if (drop < 2) throw std::invalid_argument("activation: fraction bits too small for the polynomial precision");
  const Share square = proto_.mul(x, x);
  const Share stacked_in[] = {square, proto_.scale(x, u64{1} << (drop - 1))};
  const auto stacked = proto_.truncate(std::span<const Share>(stacked_in), drop);
  const Share& half_x = stacked[1];

  const int degree = static_cast<int>(poly.coefficients.size()) - 1;
  const auto v = powers(proto_, stacked[0], degree);
  // P(v) = sum_k c_k v^k, accumulated at F + kPowerBits bits and truncated once.
  Share acc = constant(proto_, filled(r, c, static_cast<u64>(std::llround(std::ldexp(poly.coefficients[0], f + kPowerBits)))));
  for (int k = 1; k <= degree; ++k) {
    acc = proto_.add(acc, proto_.scale(v[static_cast<std::size_t>(k - 1)], proto_.fixed_point().encode(poly.coefficients[k])));
  }
  const Share inner = proto_.add(half_x, proto_.truncate(acc, kPowerBits));

  const Share bits[] = {inside, above};
  const Share values[] = {inner, x};
  const auto pieces = proto_.mul(bits, values);  // integer bits: no truncation
  return proto_.add(pieces[0], pieces[1]);
}

// With FSS: the two range comparisons (one DCF key evaluated at x + T and x - T) and the cell's line
// (intercept and slope, one DPF key) in one round; then inside * intercept, above * x (integer bits: no truncation) and slope * x in one
// round, and the last truncated and multiplied by inside in one gate: 3 rounds (3PC: 5) instead of
// 11 (17). An x with raw_bits more fraction bits is truncated by a gate of the first round; the
// range tests read x's components shifted right by raw_bits (floor(x / 2^raw_bits) less a carry
// below the number of components, exact modulo 2^(64 - raw_bits), so on tests of at most that
// many bits): a test may flip within a few ulps of a threshold, where either side's value is
// within the approximation's error. The cell's index is one shift of x, as without raw bits.
Share SecureOps::activation_by_lookup(const Share& x, const ActivationTable& table, int value_bits, int raw_bits) {
  const int f = proto_.fixed_point().frac_bits();
  const auto r = x.rows(), c = x.cols();
  const int test_bits = range_test_bits(value_bits, f, table.threshold);
  const Share x_f = raw_bits > 0 ? shift_components_right(x, raw_bits) : x;
  const u64 threshold = proto_.fixed_point().encode(table.threshold);
  const u64 thresholds[] = {threshold, u64{0} - threshold};
  const u64 offset = static_cast<u64>(std::llround(std::ldexp(table.offset, f + raw_bits)));
  const Share index = shift_components_right(proto_.add_public(x, filled(r, c, offset)), f + raw_bits - table.step_log2);
  fss::FssRound round(*key_dealing_);
  round.add(fss_->prepare_signs(x_f, thresholds, test_bits), Shape{2 * r, c});
  const fss::LookupTable* lines[] = {&table.intercept, &table.slope};
  round.add(fss_lookup_->prepare(index, lines), Shape{2 * r, c});
  if (raw_bits > 0) round.add(fss_truncation_->prepare(x, raw_bits), shape_of(x.first));
  const std::vector<Share> out = round.run();
  const Share& x_t = raw_bits > 0 ? out[2] : x;
  // [x + T < 0] and [x - T < 0] from one key: below, and inside or below.
  const Share below = rows_of(out[0], 0, r), not_above = rows_of(out[0], r, r);
  const Share inside = proto_.sub(not_above, below);
  const Share above = proto_.add_public(proto_.neg(not_above), filled(r, c, 1));
  const Share lhs[] = {inside, above, rows_of(out[1], r, r)};
  const Share rhs[] = {rows_of(out[1], 0, r), x_t, x_t};
  const std::vector<Share> pieces = proto_.mul(lhs, rhs);
  // inside * trunc(slope x) by one truncated-product gate: exact 0 outside, where slope x (an
  // aliased cell's line at a far x) may exceed the truncation's domain.
  fss::FssRound last(*key_dealing_);
  last.add(fss_truncation_->prepare_product(pieces[2], inside, f + kSlopeExtraBits, 0), shape_of(x.first));
  const Share sloped = std::move(last.run().front());
  return proto_.add(proto_.add(pieces[0], sloped), pieces[1]);
}

// The lookup form where it applies to x as given: with FSS, and range tests on bits that the local
// shift by raw_bits keeps exact; otherwise x is truncated first.
Share SecureOps::activation(const Share& x, const ActivationTable* table, const EvenPolynomial& poly, int value_bits,
                            int raw_bits) {
  check_activation_bits(value_bits);
  if (raw_bits < 0 || value_bits + raw_bits > 64) throw std::invalid_argument("activation: raw bits must keep the input below 2^62");
  const int f = proto_.fixed_point().frac_bits();
  if (table && range_test_bits(value_bits, f, table->threshold) <= 64 - raw_bits)
    return activation_by_lookup(x, *table, value_bits, raw_bits);
  const Share x_f = raw_bits > 0 ? proto_.truncate(x, raw_bits) : x;
  return table ? activation_by_lookup(x_f, *table, value_bits, 0) : piecewise_odd_plus_even(x_f, poly, value_bits);
}

Share SecureOps::gelu(const Share& x, int value_bits, int raw_bits) {
  return activation(x, tables_ ? &tables_->gelu : nullptr, gelu_poly_, value_bits, raw_bits);
}
Share SecureOps::silu(const Share& x, int value_bits, int raw_bits) {
  return activation(x, tables_ ? &tables_->silu : nullptr, silu_poly_, value_bits, raw_bits);
}

}  // namespace protocols::ops
