#include "protocols/fss/fss_comparison.hpp"

#include "protocols/common/matrix_codec.hpp"
#include "protocols/fss/dcf.hpp"

#include <stdexcept>

namespace protocols::fss {

namespace {

constexpr const char* kWhat = "FSS comparison keys";

u64 low_mask(int bits) { return bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1; }

// The correction words as three ring matrices (blocks as two words), for one frame.
std::vector<RingMatrix> as_matrices(const DcfCorrections& keys) {
  const auto n = static_cast<Eigen::Index>(keys.keys());
  RingMatrix seeds(n, 2 * keys.bits), values(n, keys.bits), final(n, 1);
  for (Eigen::Index k = 0; k < n; ++k) {
    for (int l = 0; l < keys.bits; ++l) {
      const Block b = keys.seed[k * keys.bits + l];
      seeds(k, 2 * l) = b.lo, seeds(k, 2 * l + 1) = b.hi;
      values(k, l) = keys.value[k * keys.bits + l];
    }
    final(k, 0) = keys.final[k];
  }
  return {seeds, values, final};
}

DcfCorrections read_corrections(MatrixReader& reader, std::size_t n, int bits) {
  const auto rows = static_cast<Eigen::Index>(n);
  const RingMatrix seeds = reader.next(rows, 2 * bits), values = reader.next(rows, bits), final = reader.next(rows, 1);
  DcfCorrections keys;
  keys.bits = bits;
  keys.seed.resize(n * bits);
  keys.value.resize(n * bits);
  keys.final.resize(n);
  for (Eigen::Index k = 0; k < rows; ++k) {
    for (int l = 0; l < bits; ++l) {
      keys.seed[k * bits + l] = {seeds(k, 2 * l), seeds(k, 2 * l + 1)};
      keys.value[k * bits + l] = values(k, l);
    }
    keys.final[k] = final(k, 0);
  }
  return keys;
}

}  // namespace

// What both sides expand from the seeds, in this order: masks and DCF roots of P0 and P1, and
// P0's share of the mask's top bit.
struct FssComparison::Material {
  std::vector<u64> mask0, mask1, top0;
  std::vector<Block> root0, root1;
};

FssComparison::Material FssComparison::draw_material(std::size_t n) {
  Material m;
  if (mpc::Prg* p0 = dealing_.with_p0()) {
    m.mask0 = words_from(*p0, n);
    m.root0 = blocks_from(*p0, n);
    m.top0 = words_from(*p0, n);
  }
  if (mpc::Prg* p1 = dealing_.with_p1()) {
    m.mask1 = words_from(*p1, n);
    m.root1 = blocks_from(*p1, n);
  }
  return m;
}

std::size_t FssComparison::dealer_bytes_per_comparison(int value_bits) {
  return 2 * DcfCorrections::bytes_per_key(value_bits - 1) + 8;
}

Share FssComparison::less_than_zero(const Share& x, int value_bits) {
  FssRound round(dealing_);
  round.add(prepare(x, value_bits), shape_of(x.first));
  return std::move(round.run().front());
}

std::optional<MaskedGate> FssComparison::prepare(const Share& x, int value_bits) {
  if (value_bits < 2 || value_bits > 64) throw std::invalid_argument("FSS less_than_zero: value bits must be in [2, 64]");
  if (!dealing_.is_key_dealer()) return receive(x, value_bits);
  deal(x, value_bits);
  return std::nullopt;
}

void FssComparison::deal(const Share& x, int value_bits) {
  const std::size_t n = static_cast<std::size_t>(x.first.size());
  const Material m = draw_material(n);
  const int dcf_bits = value_bits - 1;
  std::vector<u64> alpha(n), beta(n);
  RingMatrix top1(x.rows(), x.cols());
  for (std::size_t i = 0; i < n; ++i) {
    const u64 r = (m.mask0[i] + m.mask1[i]) & low_mask(value_bits);
    const u64 top = r >> dcf_bits;
    alpha[i] = r & low_mask(dcf_bits);
    beta[i] = u64{1} - 2 * top;
    top1.data()[i] = top - m.top0[i];
  }
  std::vector<RingMatrix> frame = as_matrices(dcf_generate(dealing_.aes(), dcf_bits, alpha, beta, m.root0, m.root1));
  std::vector<RingMatrix> to_p1 = frame;
  to_p1.push_back(std::move(top1));
  dealing_.send_keys(frame, to_p1);
}

MaskedGate FssComparison::receive(const Share& x, int value_bits) {
  const std::size_t n = static_cast<std::size_t>(x.first.size());
  Material m = draw_material(n);
  const int dcf_bits = value_bits - 1;
  const int self = dealing_.self();
  MatrixReader reader = dealing_.receive_keys(kWhat);
  DcfCorrections keys = read_corrections(reader, n, dcf_bits);
  RingMatrix top_share(x.rows(), x.cols());
  if (self == 0) {
    for (std::size_t i = 0; i < n; ++i) top_share.data()[i] = m.top0[i];
  } else {
    top_share = reader.next(x.rows(), x.cols());
  }
  reader.expect_end();
  // y = x + r mod 2^w is opened. The whole 64-bit share of x + r travels: uniform, whatever w.
  const std::vector<u64>& mask = self == 0 ? m.mask0 : m.mask1;
  MaskedGate gate;
  gate.masked = dealing_.additive_share(x);
  for (std::size_t i = 0; i < n; ++i) gate.masked.data()[i] += mask[i];
  std::vector<Block> root = std::move(self == 0 ? m.root0 : m.root1);
  gate.evaluate = [this, self, n, value_bits, dcf_bits, keys = std::move(keys), top_share = std::move(top_share),
                   root = std::move(root)](const RingMatrix& opened) {
    std::vector<u64> low(n), top(n);
    for (std::size_t i = 0; i < n; ++i) {
      const u64 y = opened.data()[i] & low_mask(value_bits);
      low[i] = y & low_mask(dcf_bits);
      top[i] = y >> dcf_bits;
    }
    const std::vector<u64> below = dcf_evaluate(dealing_.aes(), self, root, keys, low);
    RingMatrix bit(opened.rows(), opened.cols());
    for (std::size_t i = 0; i < n; ++i) {
      const u64 z = top_share.data()[i] + below[i];  // share of r_top xor [y' < r']
      bit.data()[i] = top[i] ? (self == 0 ? u64{1} : u64{0}) - z : z;
    }
    return bit;
  };
  return gate;
}

}  // namespace protocols::fss
