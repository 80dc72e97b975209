// exp, and the Newton guesses of 1/m and 1/sqrt(m), by FSS table lookups (with FSS comparisons;
// protocols/ops/lookup_tables.hpp for the tables and the local index arithmetic).
#include "protocols/ops/secure_ops.hpp"
#include "protocols/ops/share_layout.hpp"

#include <stdexcept>

namespace protocols::ops {

namespace {
// Bits of the lowest part of exp's input, below F: lo < components * 2^(F - kExpLowDrop), so that
// t = lo / 2^F < 3/128 and 1 - t + t^2/2 is within t^3/6 = 2.2e-6 of exp(-t).
constexpr int kExpLowDrop = 7;
constexpr int kExpMidBits = 7;  // mid = floor(u / 2^c) mod 2^7 (plus a carry); top above
}  // namespace

Share SecureOps::lookup(const Share& index, const fss::LookupTable& table) {
  const fss::LookupTable* tables[] = {&table};
  return std::move(fss_lookup_->lookup(std::span<const Share>(&index, 1), tables).front());
}

// u = -x = lo + 2^c mid + 2^(c+7) top (c = F - 7) from local shifts (no round): exp(-lo) by the
// polynomial 1 - t + t^2/2, the factors of mid and top by one batch of lookups. Then lo^2 and the
// two factors' product in one round, both brought to kExpTableBits in one truncation, their product
// and the truncation to F: 5 rounds in 2PC (8 in 3PC) instead of 16 (24) for the squarings.
Share SecureOps::exp_by_lookup(const Share& x) {
  const int f = proto_.fixed_point().frac_bits(), p = kExpTableBits;
  const int c = f - kExpLowDrop;
  if (c < 1 || 2 * p < 2 * f + 1) throw std::invalid_argument("exp by lookup: needs 8 <= F <= 27 fraction bits");
  const Share u = proto_.neg(x);
  const Share v1 = shift_components_right(u, c);
  const Share lo = proto_.sub(u, proto_.scale(v1, u64{1} << c));
  const Share top = shift_components_right(v1, kExpMidBits);
  const Share mid = proto_.sub(v1, proto_.scale(top, u64{1} << kExpMidBits));
  const Share indices[] = {mid, top};
  const fss::LookupTable* tables[] = {&tables_->exp_mid, &tables_->exp_top};
  const std::vector<Share> factors = fss_lookup_->lookup(indices, tables);
  const Share lhs[] = {lo, factors[0]}, rhs[] = {lo, factors[1]};
  const std::vector<Share> products = proto_.mul(lhs, rhs);
  // 2^(2F+1) exp(-t) ~ 2^(2F+1) - 2^(F+1) lo + lo^2, raised to 2p fraction bits like the factors.
  const Share two_poly = proto_.add_public(proto_.sub(products[0], proto_.scale(lo, u64{1} << (f + 1))),
                                           filled(x.rows(), x.cols(), u64{1} << (2 * f + 1)));
  const Share to_truncate[] = {proto_.scale(two_poly, u64{1} << (2 * p - 2 * f - 1)), products[1]};
  const std::vector<Share> at_p = proto_.truncate(std::span<const Share>(to_truncate), p);
  return proto_.truncate(proto_.mul(at_p[0], at_p[1]), 2 * p - f);
}

// The cell of m's top kMantissaTableBits bits, less a carry (lookup_tables.hpp).
namespace {
Share mantissa_index(const Share& scaled, int normalize_bits) {
  return shift_components_right(scaled, normalize_bits - kMantissaTableBits);
}
}  // namespace

// y0 = 1/m of m's cell (relative error below 3 * 2^-(kMantissaTableBits+1)), then one Newton step
// y0 (2 - m y0) with m at K bits (m y0 = scaled y0 / 2^K: no truncation of m first): the error
// squared, in 4 rounds more.
Share SecureOps::reciprocal_by_lookup(const Share& scaled, Refinement refinement) {
  const int K = normalize_bits_;
  const Share y0 = lookup(mantissa_index(scaled, K), tables_->reciprocal);
  if (refinement == Refinement::none) return y0;
  const Share my = proto_.truncate(proto_.mul(scaled, y0), K);
  return mul_fp(y0, proto_.add_public(proto_.neg(my), fixed_matrix(scaled.rows(), scaled.cols(), 2.0)));
}

// y0 = 1/sqrt(m) of m's cell, then one Newton step (3 y0 - m y0^3) / 2: y0^2 (raised to K bits)
// and scaled y0 in one round, both truncated by K in one more, their product, and one truncation
// that also halves: 4 rounds more.
Share SecureOps::rsqrt_by_lookup(const Share& scaled, Refinement refinement) {
  const int K = normalize_bits_, f = proto_.fixed_point().frac_bits();
  const Share y0 = lookup(mantissa_index(scaled, K), tables_->rsqrt);
  if (refinement == Refinement::none) return y0;
  const Share lhs[] = {y0, scaled}, rhs[] = {y0, y0};
  const std::vector<Share> products = proto_.mul(lhs, rhs);
  const Share to_truncate[] = {proto_.scale(products[0], u64{1} << (K - f)), products[1]};
  const std::vector<Share> y2_my = proto_.truncate(std::span<const Share>(to_truncate), K);
  const Share my3 = proto_.mul(y2_my[0], y2_my[1]);  // 2F fraction bits
  return proto_.truncate(proto_.sub(proto_.scale(y0, u64{3} << f), my3), f + 1);
}

}  // namespace protocols::ops
