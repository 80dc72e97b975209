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
  const int w = keys.width;
  RingMatrix seeds(n, 2 * keys.bits), values(n, keys.bits * w), final(n, w);
  for (Eigen::Index k = 0; k < n; ++k) {
    for (int l = 0; l < keys.bits; ++l) {
      const Block b = keys.seed[k * keys.bits + l];
      seeds(k, 2 * l) = b.lo, seeds(k, 2 * l + 1) = b.hi;
    }
    for (int i = 0; i < keys.bits * w; ++i) values(k, i) = keys.value[k * keys.bits * w + i];
    for (int i = 0; i < w; ++i) final(k, i) = keys.final[k * w + i];
  }
  return {seeds, values, final};
}

DcfCorrections read_corrections(MatrixReader& reader, std::size_t n, int bits, int width) {
  const auto rows = static_cast<Eigen::Index>(n);
  const RingMatrix seeds = reader.next(rows, 2 * bits), values = reader.next(rows, bits * width),
                   final = reader.next(rows, width);
  DcfCorrections keys;
  keys.bits = bits;
  keys.width = width;
  keys.seed.resize(n * bits);
  keys.value.assign(values.data(), values.data() + values.size());
  keys.final.assign(final.data(), final.data() + final.size());
  for (Eigen::Index k = 0; k < rows; ++k)
    for (int l = 0; l < bits; ++l) keys.seed[k * bits + l] = {seeds(k, 2 * l), seeds(k, 2 * l + 1)};
  return keys;
}

}  // namespace

// What both sides expand from the seeds, in this order: masks and DCF roots of P0 and P1, P0's
// share of the mask's top bit and, for ReLU, P0's share of r * r_top; for a selection then P0's
// part of y's mask s and its share of s * r_top, and P1's part of s.
struct FssComparison::Material {
  std::vector<u64> mask0, mask1, top0, product0, select_mask0, select_product0, select_mask1;
  std::vector<Block> root0, root1;
};

FssComparison::Material FssComparison::draw_material(std::size_t n, Output output) {
  Material m;
  if (mpc::Prg* p0 = dealing_.with_p0()) {
    m.mask0 = words_from(*p0, n);
    m.root0 = blocks_from(*p0, n);
    m.top0 = words_from(*p0, n);
    if (output != Output::sign_bit) m.product0 = words_from(*p0, n);
    if (output == Output::relu_select) {
      m.select_mask0 = words_from(*p0, n);
      m.select_product0 = words_from(*p0, n);
    }
  }
  if (mpc::Prg* p1 = dealing_.with_p1()) {
    m.mask1 = words_from(*p1, n);
    m.root1 = blocks_from(*p1, n);
    if (output == Output::relu_select) m.select_mask1 = words_from(*p1, n);
  }
  return m;
}

std::size_t FssComparison::dealer_bytes_per_comparison(int value_bits) {
  return 2 * DcfCorrections::bytes_per_key(value_bits - 1) + 8;
}

std::size_t FssComparison::dealer_bytes_per_relu(int value_bits) {
  return 2 * DcfCorrections::bytes_per_key(value_bits - 1, 2) + 16;
}

std::size_t FssComparison::dealer_bytes_per_select(int value_bits) {
  return 2 * DcfCorrections::bytes_per_key(value_bits - 1, 3) + 24;
}

Share FssComparison::less_than_zero(const Share& x, int value_bits) {
  FssRound round(dealing_);
  round.add(prepare(x, value_bits), shape_of(x.first));
  return std::move(round.run().front());
}

Share FssComparison::relu(const Share& x, int value_bits) {
  FssRound round(dealing_);
  round.add(prepare(x, value_bits, Output::relu), shape_of(x.first));
  return std::move(round.run().front());
}

std::optional<MaskedGate> FssComparison::prepare(const Share& x, int value_bits, Output output) {
  if (value_bits < 2 || value_bits > 64) throw std::invalid_argument("FSS less_than_zero: value bits must be in [2, 64]");
  if (output == Output::relu_select) throw std::invalid_argument("FSS comparison: a selection needs its y (prepare_select)");
  if (!dealing_.is_key_dealer()) return receive(x, nullptr, value_bits, output);
  deal(x, value_bits, output);
  return std::nullopt;
}

std::optional<MaskedGate> FssComparison::prepare_select(const Share& x, const Share& y, int value_bits) {
  if (value_bits < 2 || value_bits > 64) throw std::invalid_argument("FSS select: value bits must be in [2, 64]");
  if (x.rows() != y.rows() || x.cols() != y.cols()) throw std::invalid_argument("FSS select: x and y shapes differ");
  if (!dealing_.is_key_dealer()) return receive(x, &y, value_bits, Output::relu_select);
  deal(x, value_bits, Output::relu_select);
  return std::nullopt;
}

namespace {
int payload_width(FssComparison::Output output) {
  switch (output) {
    case FssComparison::Output::sign_bit: return 1;
    case FssComparison::Output::relu:
    case FssComparison::Output::relu_with_bit: return 2;
    case FssComparison::Output::relu_select: return 3;
  }
  return 1;
}
}  // namespace

// The DCF's payload: 1 - 2 r_top (the sign bit), and for ReLU also r (1 - 2 r_top) (the bit times
// the mask), with P1's shares of r_top and of r r_top.
void FssComparison::deal(const Share& x, int value_bits, Output output) {
  const std::size_t n = static_cast<std::size_t>(x.first.size());
  const Material m = draw_material(n, output);
  const int dcf_bits = value_bits - 1, width = payload_width(output);
  std::vector<u64> alpha(n), beta(n * static_cast<std::size_t>(width));
  RingMatrix top1(x.rows(), x.cols()), product1(x.rows(), x.cols()), select_product1(x.rows(), x.cols());
  for (std::size_t i = 0; i < n; ++i) {
    const u64 r = m.mask0[i] + m.mask1[i];
    const u64 top = (r & low_mask(value_bits)) >> dcf_bits;
    alpha[i] = r & low_mask(dcf_bits);
    beta[i * width] = u64{1} - 2 * top;
    top1.data()[i] = top - m.top0[i];
    if (width >= 2) {
      beta[i * width + 1] = r * (u64{1} - 2 * top);
      product1.data()[i] = r * top - m.product0[i];
    }
    if (width == 3) {
      const u64 s = m.select_mask0[i] + m.select_mask1[i];
      beta[i * width + 2] = s * (u64{1} - 2 * top);
      select_product1.data()[i] = s * top - m.select_product0[i];
    }
  }
  std::vector<RingMatrix> frame = as_matrices(dcf_generate(dealing_.aes(), dcf_bits, alpha, beta, m.root0, m.root1, width));
  std::vector<RingMatrix> to_p1 = frame;
  to_p1.push_back(std::move(top1));
  if (width >= 2) to_p1.push_back(std::move(product1));
  if (width == 3) to_p1.push_back(std::move(select_product1));
  dealing_.send_keys(frame, to_p1);
}

// bit = [x < 0] = y_top xor z with z = r_top xor [y' < r'] = r_top + [y' < r'] (1 - 2 r_top), linear
// in the DCF's output since y is public. ReLU(x) = x - bit x with bit x = bit y - bit r, and
// bit r = y_top ? r - z r : z r, z r = r r_top + [y' < r'] r (1 - 2 r_top): also linear. A selection's
// [x >= 0] v = v - bit v for v opened as w = v + s the same way: bit v = bit w - bit s, with
// bit s = y_top ? s - z s : z s and z s = s r_top + [y' < r'] s (1 - 2 r_top).
MaskedGate FssComparison::receive(const Share& x, const Share* y, int value_bits, Output output) {
  const std::size_t n = static_cast<std::size_t>(x.first.size());
  Material m = draw_material(n, output);
  const int dcf_bits = value_bits - 1, width = payload_width(output);
  const int self = dealing_.self();
  const Eigen::Index rows = x.rows(), cols = x.cols();
  MatrixReader reader = dealing_.receive_keys(kWhat);
  DcfCorrections keys = read_corrections(reader, n, dcf_bits, width);
  auto own_words = [&](const std::vector<u64>& words) {
    RingMatrix out(rows, cols);
    std::copy(words.begin(), words.end(), out.data());
    return out;
  };
  RingMatrix top_share, product_share, select_product_share;
  if (self == 0) {
    top_share = own_words(m.top0);
    if (width >= 2) product_share = own_words(m.product0);
    if (width == 3) select_product_share = own_words(m.select_product0);
  } else {
    top_share = reader.next(rows, cols);
    if (width >= 2) product_share = reader.next(rows, cols);
    if (width == 3) select_product_share = reader.next(rows, cols);
  }
  reader.expect_end();
  // y = x + r is opened, mod 2^w for the sign bit (all it reads), mod 2^64 for ReLU (y times the
  // bit): uniform either way; a selection's v + s beside it.
  std::vector<u64> mask = std::move(self == 0 ? m.mask0 : m.mask1);
  std::vector<u64> select_mask = std::move(self == 0 ? m.select_mask0 : m.select_mask1);
  RingMatrix own = dealing_.additive_share(x);
  RingMatrix own_selected = y ? dealing_.additive_share(*y) : RingMatrix();
  MaskedGate gate;
  gate.masked = own;
  for (std::size_t i = 0; i < n; ++i) gate.masked.data()[i] += mask[i];
  if (width == 3) {
    RingMatrix masked_selected = own_selected;
    for (std::size_t i = 0; i < n; ++i) masked_selected.data()[i] += select_mask[i];
    RingMatrix stacked(2 * rows, cols);
    stacked << gate.masked, masked_selected;
    gate.masked = std::move(stacked);
  }
  gate.opened_bits = width == 1 ? value_bits : 64;
  std::vector<Block> root = std::move(self == 0 ? m.root0 : m.root1);
  gate.evaluate = [this, self, n, rows, value_bits, dcf_bits, width, output, keys = std::move(keys), top_share = std::move(top_share),
                   product_share = std::move(product_share), select_product_share = std::move(select_product_share),
                   root = std::move(root), mask = std::move(mask), select_mask = std::move(select_mask),
                   own = std::move(own), own_selected = std::move(own_selected)](const RingMatrix& opened_all) {
    const RingMatrix opened = opened_all.topRows(rows);
    std::vector<u64> low(n);
    for (std::size_t i = 0; i < n; ++i) low[i] = opened.data()[i] & low_mask(dcf_bits);
    const std::vector<u64> below = dcf_evaluate(dealing_.aes(), self, root, keys, low);
    const u64 one = self == 0 ? 1 : 0;
    RingMatrix out(opened.rows(), opened.cols()), selected;
    if (output == Output::relu_with_bit || output == Output::relu_select) selected.resize(opened.rows(), opened.cols());
    const RingMatrix opened_selected = width == 3 ? RingMatrix(opened_all.bottomRows(rows)) : RingMatrix();
    for (std::size_t i = 0; i < n; ++i) {
      const u64 y = opened.data()[i];
      const bool y_top = ((y & low_mask(value_bits)) >> dcf_bits) != 0;
      const u64 z = top_share.data()[i] + below[i * width];
      const u64 bit = y_top ? one - z : z;
      if (width == 1) {
        out.data()[i] = bit;
        continue;
      }
      const u64 zr = product_share.data()[i] + below[i * width + 1];
      const u64 bit_r = y_top ? mask[i] - zr : zr;
      out.data()[i] = own.data()[i] - (bit * y - bit_r);
      if (output == Output::relu_with_bit) selected.data()[i] = one - bit;
      if (width == 3) {
        const u64 zs = select_product_share.data()[i] + below[i * width + 2];
        const u64 bit_s = y_top ? select_mask[i] - zs : zs;
        selected.data()[i] = own_selected.data()[i] - (bit * opened_selected.data()[i] - bit_s);
      }
    }
    if (output == Output::sign_bit || output == Output::relu) return out;
    RingMatrix stacked(2 * rows, out.cols());
    stacked << out, selected;
    return stacked;
  };
  return gate;
}

}  // namespace protocols::fss
