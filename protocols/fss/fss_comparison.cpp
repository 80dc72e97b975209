#include "protocols/fss/fss_comparison.hpp"

#include "protocols/common/matrix_codec.hpp"
#include "protocols/fss/dcf.hpp"

#include <memory>
#include <stdexcept>

namespace protocols::fss {

namespace {

constexpr const char* kWhat = "FSS comparison keys";

u64 low_mask(int bits) { return bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1; }

std::span<const u64> as_words(std::span<const Block> blocks) {
  static_assert(sizeof(Block) == 2 * sizeof(u64));
  return {reinterpret_cast<const u64*>(blocks.data()), 2 * blocks.size()};
}

// The correction words where they arrived in the dealer's frame: seeds (keys x bits blocks, each
// as its two words), values, finals; the view is valid while the reader lives.
DcfKeysView read_corrections(MatrixReader& reader, std::size_t n, int bits, int width) {
  const std::size_t levels = n * static_cast<std::size_t>(bits), w = static_cast<std::size_t>(width);
  const std::span<const u64> seed = reader.next_words(2 * levels);
  const std::span<const u64> value = reader.next_words(levels * w);
  const std::span<const u64> final = reader.next_words(n * w);
  return {bits, width, {reinterpret_cast<const Block*>(seed.data()), levels}, value, final};
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

std::optional<MaskedGate> FssComparison::prepare_signs(const Share& x, std::span<const u64> offsets, int value_bits) {
  if (value_bits < 2 || value_bits > 64) throw std::invalid_argument("FSS signs: value bits must be in [2, 64]");
  if (offsets.empty()) throw std::invalid_argument("FSS signs: at least one offset");
  if (!dealing_.is_key_dealer()) return receive(x, nullptr, value_bits, Output::sign_bit, offsets);
  deal(x, value_bits, Output::sign_bit);
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
  const DcfCorrections keys = dcf_generate(dealing_.aes(), dcf_bits, alpha, beta, m.root0, m.root1, width);
  const std::span<const u64> common[] = {as_words(keys.seed), keys.value, keys.final};
  std::vector<RingMatrix> p1_only;
  p1_only.push_back(std::move(top1));
  if (width >= 2) p1_only.push_back(std::move(product1));
  if (width == 3) p1_only.push_back(std::move(select_product1));
  dealing_.send_keys(common, p1_only);
}

// [x + c < 0] for every public offset c, stacked by offset: x + c + r = y + c is the opening shifted,
// so the same key answers at y + c as at y (a DCF key may be evaluated at any input: each
// evaluation gives only shares).
RingMatrix FssComparison::signs_at_offsets(const RingMatrix& opened, std::span<const u64> offsets, const DcfKeysView& keys,
                                           std::span<const Block> root, const RingMatrix& top_share, int value_bits) {
  const std::size_t n = static_cast<std::size_t>(opened.size());
  const int dcf_bits = value_bits - 1;
  const u64 one = dealing_.self() == 0 ? 1 : 0;
  RingMatrix out(static_cast<Eigen::Index>(offsets.size()) * opened.rows(), opened.cols());
  std::vector<u64> low(n);
  for (std::size_t j = 0; j < offsets.size(); ++j) {
    for (std::size_t i = 0; i < n; ++i) low[i] = (opened.data()[i] + offsets[j]) & low_mask(dcf_bits);
    const std::vector<u64> below = dcf_evaluate(dealing_.aes(), dealing_.self(), root, keys, low);
    for (std::size_t i = 0; i < n; ++i) {
      const bool y_top = (((opened.data()[i] + offsets[j]) & low_mask(value_bits)) >> dcf_bits) != 0;
      const u64 z = top_share.data()[i] + below[i];
      out.data()[j * n + i] = y_top ? one - z : z;
    }
  }
  return out;
}

// bit = [x < 0] = y_top xor z with z = r_top xor [y' < r'] = r_top + [y' < r'] (1 - 2 r_top), linear
// in the DCF's output since y is public. ReLU(x) = x - bit x with bit x = bit y - bit r, and
// bit r = y_top ? r - z r : z r, z r = r r_top + [y' < r'] r (1 - 2 r_top): also linear. A selection's
// [x >= 0] v = v - bit v for v opened as w = v + s the same way: bit v = bit w - bit s, with
// bit s = y_top ? s - z s : z s and z s = s r_top + [y' < r'] s (1 - 2 r_top).
MaskedGate FssComparison::receive(const Share& x, const Share* y, int value_bits, Output output,
                                  std::span<const u64> offsets) {
  const std::size_t n = static_cast<std::size_t>(x.first.size());
  Material m = draw_material(n, output);
  const int dcf_bits = value_bits - 1, width = payload_width(output);
  const int self = dealing_.self();
  const Eigen::Index rows = x.rows(), cols = x.cols();
  // Shared by every copy of the gate: its frame holds the keys' correction words.
  const auto reader = std::make_shared<MatrixReader>(dealing_.receive_keys(kWhat));
  const DcfKeysView keys = read_corrections(*reader, n, dcf_bits, width);
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
    top_share = reader->next(rows, cols);
    if (width >= 2) product_share = reader->next(rows, cols);
    if (width == 3) select_product_share = reader->next(rows, cols);
  }
  reader->expect_end();
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
  gate.evaluate = [this, self, n, rows, value_bits, dcf_bits, width, output, offsets = offsets.empty() ? std::vector<u64>{0} : std::vector<u64>(offsets.begin(), offsets.end()),
                   reader, keys, top_share = std::move(top_share),
                   product_share = std::move(product_share), select_product_share = std::move(select_product_share),
                   root = std::move(root), mask = std::move(mask), select_mask = std::move(select_mask),
                   own = std::move(own), own_selected = std::move(own_selected)](const RingMatrix& opened_all) {
    const RingMatrix opened = opened_all.topRows(rows);
    if (output == Output::sign_bit) return signs_at_offsets(opened, offsets, keys, root, top_share, value_bits);
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
    if (output == Output::relu) return out;
    RingMatrix stacked(2 * rows, out.cols());
    stacked << out, selected;
    return stacked;
  };
  return gate;
}

}  // namespace protocols::fss
