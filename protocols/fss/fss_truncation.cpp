#include "protocols/fss/fss_truncation.hpp"

#include "protocols/common/exact_truncation.hpp"

#include <stdexcept>

namespace protocols::fss {

namespace {

constexpr const char* kWhat = "FSS truncation shares";
constexpr u64 kLow63 = (u64{1} << 63) - 1;

// The parts of r = mask0 + mask1 that the truncation reads: r_low = (r mod 2^63) >> bits, r_msb.
RingMatrix low_part(const RingMatrix& r, int bits) {
  return r.unaryExpr([bits](u64 v) { return (v & kLow63) >> bits; });
}
RingMatrix msb_part(const RingMatrix& r) {
  return r.unaryExpr([](u64 v) { return v >> 63; });
}

// P of the truncated value P - M, and s of M = r_low + s r_msb, for an opened c.
u64 public_part(u64 c, int bits) {
  return ((c & kLow63) >> bits) + (u64{1} << (63 - bits)) * (c >> 63) - (kTruncationOffset >> bits);
}
u64 msb_weight(u64 c, int bits) {
  return (u64{1} << (63 - bits)) * (2 * (c >> 63) - 1);
}

}  // namespace

std::optional<MaskedGate> FssTruncation::prepare(const Share& x, int bits) {
  check_truncation_bits(bits);
  const Eigen::Index rows = x.rows(), cols = x.cols();
  // Drawn in the same order at the key dealer and at P0 (P1): P0's mask part and its shares of
  // r_low and r_msb, and P1's mask part.
  mpc::Prg* p0 = dealing_.with_p0();
  mpc::Prg* p1 = dealing_.with_p1();
  RingMatrix mask0, low0, msb0, mask1;
  if (p0) {
    mask0 = p0->random(rows, cols);
    low0 = p0->random(rows, cols);
    msb0 = p0->random(rows, cols);
  }
  if (p1) mask1 = p1->random(rows, cols);
  if (dealing_.is_key_dealer()) {
    const RingMatrix r = mask0 + mask1;
    const RingMatrix low1 = low_part(r, bits) - low0;
    const RingMatrix msb1 = msb_part(r) - msb0;
    const RingMatrix to_p1[] = {low1, msb1};
    dealing_.send_keys_to_p1(to_p1);
    return std::nullopt;
  }
  const int self = dealing_.self();
  RingMatrix r_low = std::move(low0), r_msb = std::move(msb0);
  if (self == 1) {
    MatrixReader reader = dealing_.receive_keys(kWhat);
    r_low = reader.next(rows, cols);
    r_msb = reader.next(rows, cols);
    reader.expect_end();
  }
  MaskedGate gate;
  gate.masked = dealing_.additive_share(x) + (self == 0 ? mask0 : mask1);
  if (self == 0) gate.masked.array() += kTruncationOffset;
  gate.opened_bits = 64;
  gate.evaluate = [self, bits, r_low = std::move(r_low), r_msb = std::move(r_msb)](const RingMatrix& opened) {
    return truncated_share(opened, r_low, r_msb, bits, self == 0);
  };
  return gate;
}

// The material, in the order drawn: P0's two mask parts and its eight shares (r_low and r_msb of
// a and b, then R_a R_b, R_a m_b, m_a R_b, m_a m_b), and P1's two mask parts.
std::optional<MaskedGate> FssTruncation::prepare_product(const Share& a, const Share& b, int bits, int b_bits) {
  check_truncation_bits(bits);
  if (b_bits != 0) check_truncation_bits(b_bits);
  if (a.rows() != b.rows() || a.cols() != b.cols()) throw std::invalid_argument("FSS truncated product: shapes differ");
  const Eigen::Index rows = a.rows(), cols = a.cols();
  constexpr int kParts = 8;
  mpc::Prg* p0 = dealing_.with_p0();
  mpc::Prg* p1 = dealing_.with_p1();
  RingMatrix mask_a0, mask_b0, mask_a1, mask_b1;
  std::vector<RingMatrix> parts;  // this party's (or, at the dealer, P0's) eight shares
  if (p0) {
    mask_a0 = p0->random(rows, cols);
    mask_b0 = p0->random(rows, cols);
    for (int k = 0; k < kParts; ++k) parts.push_back(p0->random(rows, cols));
  }
  if (p1) {
    mask_a1 = p1->random(rows, cols);
    mask_b1 = p1->random(rows, cols);
  }
  if (dealing_.is_key_dealer()) {
    const RingMatrix ra = low_part(mask_a0 + mask_a1, bits), ma = msb_part(mask_a0 + mask_a1);
    const RingMatrix rb = low_part(mask_b0 + mask_b1, b_bits), mb = msb_part(mask_b0 + mask_b1);
    const RingMatrix values[kParts] = {ra, ma, rb, mb, ra.cwiseProduct(rb), ra.cwiseProduct(mb), ma.cwiseProduct(rb),
                                       ma.cwiseProduct(mb)};
    std::vector<RingMatrix> to_p1;
    for (int k = 0; k < kParts; ++k) to_p1.push_back(values[k] - parts[static_cast<std::size_t>(k)]);
    dealing_.send_keys_to_p1(to_p1);
    return std::nullopt;
  }
  const int self = dealing_.self();
  if (self == 1) {
    MatrixReader reader = dealing_.receive_keys(kWhat);
    for (int k = 0; k < kParts; ++k) parts.push_back(reader.next(rows, cols));
    reader.expect_end();
  }
  MaskedGate gate;
  gate.masked.resize(2 * rows, cols);
  gate.masked.topRows(rows) = dealing_.additive_share(a) + (self == 0 ? mask_a0 : mask_a1);
  gate.masked.bottomRows(rows) = dealing_.additive_share(b) + (self == 0 ? mask_b0 : mask_b1);
  if (self == 0) gate.masked.array() += kTruncationOffset;
  gate.opened_bits = 64;
  gate.evaluate = [self, bits, b_bits, rows, cols, parts = std::move(parts)](const RingMatrix& opened) {
    RingMatrix out(rows, cols);
    for (Eigen::Index j = 0; j < cols; ++j) {
      for (Eigen::Index i = 0; i < rows; ++i) {
        const u64 ca = opened(i, j), cb = opened(rows + i, j);
        const u64 pa = public_part(ca, bits), pb = public_part(cb, b_bits);
        const u64 sa = msb_weight(ca, bits), sb = msb_weight(cb, b_bits);
        const u64 ma = parts[0](i, j) + sa * parts[1](i, j), mb = parts[2](i, j) + sb * parts[3](i, j);
        u64 v = parts[4](i, j) + sb * parts[5](i, j) + sa * parts[6](i, j) + sa * sb * parts[7](i, j) - pa * mb - pb * ma;
        if (self == 0) v += pa * pb;
        out(i, j) = v;
      }
    }
    return out;
  };
  return gate;
}

}  // namespace protocols::fss
