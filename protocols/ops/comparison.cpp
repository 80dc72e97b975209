// Bit decomposition, comparisons, selection and equality (protocols/ops/secure_ops.hpp).
#include "protocols/ops/bit_lanes.hpp"
#include "protocols/ops/secure_ops.hpp"
#include "protocols/ops/share_layout.hpp"

#include <algorithm>
#include <stdexcept>

namespace protocols::ops {

namespace {
constexpr int kWordBits = 64;

void check_value_bits(int value_bits) {
  if (value_bits < 2 || value_bits > kWordBits) throw std::invalid_argument("comparison: value bits must be in [2, 64]");
}
// Carries into bit 63 depend on bits 0..62 only.
constexpr int kCarryWidth = 63;
// Widest equality test run as a DPF (a domain evaluation of 2^width per test); wider ones run as
// two comparisons.
constexpr int kDpfEqualityBits = 12;

}  // namespace

SecureOps::SecureOps(Session& session, OpsOptions options)
    : proto_(session.protocol()),
      options_(options),
      boolean_(session.boolean()),
      key_dealing_(session.key_dealing()),
      // Normalisation multiplies x by 2^(K-1-j) and Newton's result by the same factor: K is the
      // largest exponent that keeps both products below 2^62 (exact truncation's domain).
      normalize_bits_(60 - proto_.fixed_point().frac_bits()),
      gelu_poly_(gelu_polynomial()),
      silu_poly_(silu_polynomial()) {
  if (options_.tournament_arity != 0 && (options_.tournament_arity < 2 || options_.tournament_arity > 16)) {
    throw std::invalid_argument("SecureOps: tournament arity must be 0 (default) or in [2, 16]");
  }
  if (key_dealing_) {
    fss_.emplace(*key_dealing_);
    fss_lookup_.emplace(*key_dealing_);
    fss_truncation_.emplace(*key_dealing_);
    tables_ = make_lookup_tables(proto_.fixed_point().frac_bits(), share_components(proto_.backend()));
  }
}

// Kogge-Stone parallel prefix: bit i of the result is the carry out of bit i of a + b, for i < width.
// Generate/propagate pairs combine as (g, p) o (g', p') = (g ^ (p & g'), p & p'); g and p & g' never
// overlap, so XOR is OR. One AND round for g, then ceil(log2 width) rounds. With several lanes per
// word, what a shift moves across a lane boundary is cleared: every lane adds on its own.
BoolShare SecureOps::carries(const BoolShare& a, const BoolShare& b, int width, const LaneLayout& lanes) {
  BooleanBackend& B = boolean_;
  // One lane per word needs no mask: the shift fills with zeros and nothing flows downwards.
  const auto shifted = [&lanes](const BoolShare& x, int k) {
    BoolShare moved = BooleanBackend::shift_left(x, k);
    return lanes.per_word == 1 ? moved : BooleanBackend::and_public(moved, lanes.at_or_above(k));
  };
  BoolShare p = BooleanBackend::xor_(a, b);
  BoolShare g = B.and_(a, b);
  for (int k = 1; k < width; k *= 2) {
    const BoolShare g_shifted = shifted(g, k);
    if (2 * k >= width) {  // last level: the propagate bits are no longer needed
      g = BooleanBackend::xor_(g, B.and_(p, g_shifted));
      break;
    }
    const BoolShare lhs[] = {p, p};
    const BoolShare rhs[] = {g_shifted, shifted(p, k)};
    auto products = B.and_(lhs, rhs);
    g = BooleanBackend::xor_(g, products[0]);
    p = std::move(products[1]);
  }
  return g;
}

BoolShare SecureOps::to_boolean(const Share& x) {
  const auto summands = boolean_.from_arithmetic_shares(x);
  const BoolShare g = carries(summands[0], summands[1], kCarryWidth, LaneLayout{});
  return BooleanBackend::xor_(BooleanBackend::xor_(summands[0], summands[1]), BooleanBackend::shift_left(g, 1));
}

BoolShare SecureOps::msb(const Share& x) { return BooleanBackend::shift_right(to_boolean(x), kWordBits - 1); }

Share SecureOps::less_than_zero(const Share& x) {
  if (fss_) return fss_->less_than_zero(x, kWordBits);
  return boolean_.bit_to_arithmetic(msb(x));
}

// x mod 2^w is the w-bit two's complement of x when |x| < 2^(w-1): its top bit is the sign, and the
// low w bits of the two summands add up to it. Only w - 1 carries are needed, lanes of w bits.
Share SecureOps::less_than_zero(const Share& x, int value_bits) {
  check_value_bits(value_bits);
  if (fss_) return fss_->less_than_zero(x, value_bits);
  return boolean_.bit_to_arithmetic(msb(x, value_bits));
}

BoolShare SecureOps::msb(const Share& x, int value_bits) {
  check_value_bits(value_bits);
  if (value_bits == kWordBits) return msb(x);
  const LaneLayout lanes = LaneLayout::for_width(value_bits);
  const auto summands = boolean_.from_arithmetic_shares(x);
  const BoolShare a = pack_lanes(summands[0], lanes), b = pack_lanes(summands[1], lanes);
  const BoolShare g = carries(a, b, value_bits - 1, lanes);
  // The carry into the top bit of a lane comes from the bit below it, inside the same lane.
  const BoolShare top = BooleanBackend::xor_(BooleanBackend::xor_(a, b), BooleanBackend::shift_left(g, 1));
  return unpack_lane_bit(top, lanes, value_bits - 1, x.rows(), x.cols());
}

Share SecureOps::less_than(const Share& x, const Share& y) { return less_than_zero(proto_.sub(x, y)); }

Share SecureOps::less_than(const Share& x, const Share& y, int value_bits) {
  return less_than_zero(proto_.sub(x, y), value_bits);
}

Share SecureOps::select(const Share& bit, const Share& x, const Share& y) {
  return proto_.add(y, proto_.mul(bit, proto_.sub(x, y)));
}

Share SecureOps::relu(const Share& x) {
  if (fss_) return fss_->relu(x, kWordBits);
  return proto_.sub(x, proto_.mul(less_than_zero(x), x));
}

Share SecureOps::elementwise_max(const Share& a, const Share& b, int value_bits) {
  check_value_bits(value_bits);
  if (fss_) return proto_.add(b, fss_->relu(proto_.sub(a, b), value_bits));
  return select(less_than_zero(proto_.sub(a, b), value_bits), b, a);
}

Share SecureOps::equal_public(const Share& x, const RingMatrix& c, int width) {
  if (width < 1 || width > kWordBits) throw std::invalid_argument("equal_public: width must be in [1, 64]");
  if (c.rows() != x.rows() || c.cols() != x.cols()) throw std::invalid_argument("equal_public: shape mismatch");
  const Share d = proto_.add_public(x, RingMatrix(RingMatrix::Zero(c.rows(), c.cols()) - c));
  if (fss_) return equal_zero_by_fss(d, width);
  // x - c = a - b, so x == c exactly when a ^ b is zero on the tested bits.
  const auto summands = boolean_.from_arithmetic_shares(d, Summand::Minus);
  const u64 tested = width == kWordBits ? ~u64{0} : (u64{1} << width) - 1;
  BooleanBackend& B = boolean_;
  // All-ones on untested bits, so an AND tree over a power-of-two lane decides the tested ones:
  // bit 0 of a lane ends up the AND of the whole lane, whatever shifted in from the lane above.
  int lane_width = 1;
  while (lane_width < width) lane_width *= 2;
  const LaneLayout lanes = LaneLayout::for_width(lane_width);
  BoolShare z = pack_lanes(
      B.xor_public(BooleanBackend::and_public(B.not_(BooleanBackend::xor_(summands[0], summands[1])), tested), ~tested),
      lanes);
  for (int k = 1; k < lane_width; k *= 2) z = B.and_(z, BooleanBackend::shift_right(z, k));
  return B.bit_to_arithmetic(unpack_lane_bit(z, lanes, 0, x.rows(), x.cols()));
}

// With |d| < 2^(width - 1), d == 0 exactly when d mod 2^width == 0: one DPF point test (a one-hot
// of one column), or for wider d the two comparisons [d < 1] - [d < 0]. One round either way.
Share SecureOps::equal_zero_by_fss(const Share& d, int width) {
  if (width <= kDpfEqualityBits)
    return reshape(fss_lookup_->one_hot(d, width, 1), d.rows(), d.cols());
  const int bits = std::min(kWordBits, width + 1);
  const Share both[] = {proto_.add_public(d, filled(d.rows(), d.cols(), ~u64{0})), d};
  const Share below = fss_->less_than_zero(concat_columns(both), bits);
  return proto_.sub(columns(below, 0, d.cols()), columns(below, d.cols(), d.cols()));
}

Share SecureOps::one_hot(const Share& index, Eigen::Index n) {
  if (index.cols() != 1 || n < 1) throw std::invalid_argument("one_hot: expects a column of indices and n >= 1");
  if (const int bits = bits_for_index(n); fss_ && bits <= fss::kMaxDpfBits) return fss_lookup_->one_hot(index, bits, n);
  RingMatrix positions(index.rows(), n);
  for (Eigen::Index j = 0; j < n; ++j) positions.col(j).setConstant(static_cast<u64>(j));
  return equal_public(broadcast_column(index, n), positions, bits_for_difference(n));
}

}  // namespace protocols::ops
