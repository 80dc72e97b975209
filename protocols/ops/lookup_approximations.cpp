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
// two factors' product in one round, both brought to kExpTableBits and multiplied in one gate (an
// FSS truncated product), and the truncation to F: 4 rounds in 2PC (7 in 3PC) instead of 16 (24)
// for the squarings.
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
  // Both brought to p fraction bits and multiplied in one gate (the truncations' opening is the
  // product's), then the product truncated to F.
  fss::FssRound round(*key_dealing_);
  round.add(fss_truncation_->prepare_product(proto_.scale(two_poly, u64{1} << (2 * p - 2 * f - 1)), products[1], p, p),
            shape_of(x.first));
  return proto_.truncate(std::move(round.run().front()), 2 * p - f);
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
Share SecureOps::reciprocal_by_lookup(const Share& scaled) {
  const int K = normalize_bits_;
  const Share y0 = lookup(mantissa_index(scaled, K), tables_->reciprocal);
  const Share my = proto_.truncate(proto_.mul(scaled, y0), K);
  return mul_fp(y0, proto_.add_public(proto_.neg(my), fixed_matrix(scaled.rows(), scaled.cols(), 2.0)));
}

// y0 = 1/sqrt(m) of m's cell, then one Newton step (3 y0 - m y0^3) / 2: y0^2 (raised to K bits)
// and scaled y0 in one round, both truncated by K in one more, their product, and one truncation
// that also halves: 4 rounds more.
Share SecureOps::rsqrt_by_lookup(const Share& scaled) {
  const int K = normalize_bits_, f = proto_.fixed_point().frac_bits();
  const Share y0 = lookup(mantissa_index(scaled, K), tables_->rsqrt);
  const Share lhs[] = {y0, scaled}, rhs[] = {y0, y0};
  const std::vector<Share> products = proto_.mul(lhs, rhs);
  const Share to_truncate[] = {proto_.scale(products[0], u64{1} << (K - f)), products[1]};
  const std::vector<Share> y2_my = proto_.truncate(std::span<const Share>(to_truncate), K);
  const Share my3 = proto_.mul(y2_my[0], y2_my[1]);  // 2F fraction bits
  return proto_.truncate(proto_.sub(proto_.scale(y0, u64{3} << f), my3), f + 1);
}

namespace {
// sum_j one_hot_j * values[j] for every row of a one-hot (n x K): a local public product.
Share select_by_one_hot(const Protocol& proto, const Share& one_hot, const std::vector<u64>& values) {
  RingMatrix column(static_cast<Eigen::Index>(values.size()), 1);
  for (std::size_t j = 0; j < values.size(); ++j) column(static_cast<Eigen::Index>(j), 0) = values[j];
  return proto.matmul_public(one_hot, column);
}

// Most of the rsqrt factor's power of two stays in the product: gains below 2^6 in magnitude keep
// (scaled * factor) * y below 2^62 (normalize_rows_by_lookup).
constexpr int kNormFactorBits = 13;
}  // namespace

// e / sum(e) per row, e >= 0: with sum = m 2^(j+1) (encoding) the highest bit j by one comparison
// batch, then in one round both m's scaling sum 2^(K-1-j) and e 2^(K-1-j), a lookup of 1/m, and
// (e 2^(K-1-j)) (1/m) / 2^K = e / sum: 5 rounds (3PC 8) instead of the reciprocal's 9 (or 5 without
// its Newton step) plus the product's 2. Each entry is at most its row's sum, so the products stay
// below 2^(K + F + 1) = 2^61.
Share SecureOps::divide_by_row_sum_by_lookup(const Share& e) {
  const int K = normalize_bits_;
  const Eigen::Index cols = e.cols();
  const Share sum = row_sum(e);
  const Share one_hot = highest_bit_by_comparisons(sum, K);
  std::vector<u64> powers(static_cast<std::size_t>(K));
  for (int j = 0; j < K; ++j) powers[static_cast<std::size_t>(j)] = u64{1} << (K - 1 - j);
  const Share power = select_by_one_hot(proto_, one_hot, powers);  // rows x 1
  const Share lhs[] = {sum, e}, rhs[] = {power, broadcast_column(power, cols)};
  const std::vector<Share> products = proto_.mul(lhs, rhs);
  const Share inverse = lookup(mantissa_index(products[0], K), tables_->reciprocal);
  return proto_.truncate(proto_.mul(products[1], broadcast_column(inverse, cols)), K);
}

const fss::LookupTable& SecureOps::norm_table(Eigen::Index d) {
  auto it = norm_tables_.find(d);
  if (it == norm_tables_.end())
    it = norm_tables_.emplace(d, norm_rsqrt_table(d, proto_.fixed_point().frac_bits(), share_components(proto_.backend()))).first;
  return it->second;
}

// scaled / sqrt(S / d + eps) for S the rows' sums of squares, given both untruncated at 2F fraction
// bits. x = S + d eps = m 2^(j+1) (encoding at 2F bits): its highest bit by one comparison batch,
// in the same round as scaled's truncation to fv = F + kVarianceExtraBits bits (an FSS truncation
// gate); with 2F - j - 1 = 2q + p and sqrt(d) = 2^a r_d, 1/sqrt(S/d + eps) = m^(-1/2) 2^(p/2) r_d
// 2^(q + a), so one round computes m's scaling x 2^(K-1-j) and scaled 2^(q + a + b) (b =
// kNormFactorBits - a extra bits: an exact power of two), a lookup on m's cell and p gives the rest,
// and one product and truncation finish: 5 rounds (3PC 8) after the squares instead of a truncation,
// the variance's, rsqrt's 5 and the product's 2. Bounds: x < 2^K = 2^60 (S < 2^28); |scaled| 2^q <=
// |gain| 2^fv (a row's entry squared is at most S), so gains below 2^6 keep the products below 2^62;
// rows with S / d beyond 2^(2 kNormFactorBits) / d come out 0.
Share SecureOps::normalize_rows_by_lookup(const Share& raw_scaled, const Share& raw_sum_sq, Eigen::Index d, double eps) {
  const int K = kWideNormalizeBits, f = proto_.fixed_point().frac_bits(), fv = f + kVarianceExtraBits, fx = 2 * f;
  const int a = std::ilogb(std::sqrt(static_cast<double>(d)));
  const int extra = kNormFactorBits - a;
  if (extra < 0) throw std::invalid_argument("normalisation: rows too long for the FSS normalisation");
  const auto cols = raw_scaled.cols();
  const Share x = proto_.add_public(raw_sum_sq, filled(raw_sum_sq.rows(), 1, static_cast<u64>(std::llround(std::ldexp(eps * static_cast<double>(d), fx)))));
  fss::FssRound round(*key_dealing_);
  round.add(fss_truncation_->prepare(raw_scaled, fx - fv), shape_of(raw_scaled.first));
  round.add(prepare_highest_bit(x, K), Shape{x.rows() * x.cols(), K});
  const std::vector<Share> out = round.run();
  const Share& scaled = out[0];
  const Share one_hot = highest_bit_from_comparisons(out[1], K);
  std::vector<u64> powers(static_cast<std::size_t>(K)), factors(powers.size()), parities(powers.size());
  for (int j = 0; j < K; ++j) {
    const int e = fx - j - 1, p = ((e % 2) + 2) % 2, q = (e - p) / 2, shift = q + a + extra;
    powers[static_cast<std::size_t>(j)] = u64{1} << (K - 1 - j);
    factors[static_cast<std::size_t>(j)] = shift >= 0 ? u64{1} << shift : 0;
    parities[static_cast<std::size_t>(j)] = static_cast<u64>(p);
  }
  const Share lhs[] = {x, scaled}, rhs[] = {select_by_one_hot(proto_, one_hot, powers),
                                            broadcast_column(select_by_one_hot(proto_, one_hot, factors), cols)};
  const std::vector<Share> products = proto_.mul(lhs, rhs);
  const Share parity = select_by_one_hot(proto_, one_hot, parities);
  const Share index = proto_.add(mantissa_index(products[0], K), proto_.scale(parity, u64{1} << kMantissaTableBits));
  const Share inv = lookup(index, norm_table(d));
  return proto_.truncate(proto_.mul(products[1], broadcast_column(inv, cols)), fv + extra);
}

}  // namespace protocols::ops
