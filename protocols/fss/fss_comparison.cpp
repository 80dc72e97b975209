#include "protocols/fss/fss_comparison.hpp"

#include "protocols/common/seed_agreement.hpp"
#include "protocols/common/matrix_codec.hpp"
#include "protocols/fss/dcf.hpp"
#include "protocols/two_party/dealer_correlations.hpp"

#include <stdexcept>

namespace protocols::fss {

namespace {

constexpr const char* kWhat = "FSS comparison keys";

u64 low_mask(int bits) { return bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1; }

std::vector<Block> blocks_from(mpc::Prg& prg, std::size_t n) {
  std::vector<u64> words(2 * n);
  prg.fill(std::span<u64>(words));
  std::vector<Block> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = {words[2 * i], words[2 * i + 1]};
  return out;
}

std::vector<u64> words_from(mpc::Prg& prg, std::size_t n) {
  std::vector<u64> out(n);
  prg.fill(std::span<u64>(out));
  return out;
}

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
  if (prg_p0_) {
    m.mask0 = words_from(*prg_p0_, n);
    m.root0 = blocks_from(*prg_p0_, n);
    m.top0 = words_from(*prg_p0_, n);
  }
  if (prg_p1_) {
    m.mask1 = words_from(*prg_p1_, n);
    m.root1 = blocks_from(*prg_p1_, n);
  }
  return m;
}

FssComparison::FssComparison(Protocol& proto)
    : proto_(proto), self_(proto.mesh().self()), replicated_(proto.backend() == Backend::ThreePartyReplicated) {
  net::Mesh& mesh = proto.mesh();
  if (mesh.size() != 3) throw std::invalid_argument("FSS comparisons need a mesh of three parties");
  DealerSeeds seeds = agree_dealer_seeds(mesh, "FSS comparisons");
  prg_p0_ = std::move(seeds.with_p0);
  prg_p1_ = std::move(seeds.with_p1);
}

std::size_t FssComparison::dealer_bytes_per_comparison(int value_bits) {
  return 2 * DcfCorrections::bytes_per_key(value_bits - 1) + 8;
}

Share FssComparison::less_than_zero(const Share& x, int value_bits) {
  if (value_bits < 2 || value_bits > 64) throw std::invalid_argument("FSS less_than_zero: value bits must be in [2, 64]");
  return self_ == kDealerId ? as_dealer(x, value_bits) : as_party(x, value_bits);
}

Share FssComparison::as_dealer(const Share& x, int value_bits) {
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
  std::vector<RingMatrix> frame = as_matrices(dcf_generate(aes_, dcf_bits, alpha, beta, m.root0, m.root1));
  net::Mesh& mesh = proto_.mesh();
  net::PhaseScope phase(mesh.stats(), kOfflinePhase);
  mesh.send(0, pack(std::span<const RingMatrix>(frame)));
  frame.push_back(std::move(top1));
  mesh.send(1, pack(std::span<const RingMatrix>(frame)));
  if (!replicated_) return Share{RingMatrix::Zero(x.rows(), x.cols()), RingMatrix()};
  RingMatrix y0 = prg_p0_->random(x.rows(), x.cols()), y2 = prg_p1_->random(x.rows(), x.cols());
  return Share{std::move(y2), std::move(y0)};
}

// 3PC: P0's additive share of x is x_0 + x_1, P1's is x_2.
RingMatrix FssComparison::additive_share(const Share& x) const {
  if (!replicated_) return x.first;
  return self_ == 0 ? RingMatrix(x.first + x.second) : x.second;
}

// 3PC: from P0's and P1's additive shares z_0, z_1 to replicated shares, one round between P0 and P1.
// y_0 comes from P0's seed with P2 and y_2 from P1's, y_1 = (z_0 - y_0) + (z_1 - y_2): each of P0 and
// P1 sends the other its own part, masked by a component the receiver does not know.
Share FssComparison::as_replicated(RingMatrix z) {
  if (!replicated_) return Share{std::move(z), RingMatrix()};
  mpc::Prg& with_key_dealer = self_ == 0 ? *prg_p0_ : *prg_p1_;
  RingMatrix own = with_key_dealer.random(z.rows(), z.cols());
  const RingMatrix part = z - own;
  const int peer = 1 - self_;
  const net::Bytes payload = pack(std::span<const RingMatrix>(&part, 1));
  const net::Outgoing out[] = {{peer, payload}};
  const int from[] = {peer};
  RingMatrix middle = part + unpack_one(proto_.mesh().exchange(out, from).at(0), shape_of(part), "FSS comparison reshare");
  return self_ == 0 ? Share{std::move(own), std::move(middle)} : Share{std::move(middle), std::move(own)};
}

Share FssComparison::as_party(const Share& x, int value_bits) {
  const std::size_t n = static_cast<std::size_t>(x.first.size());
  const Material m = draw_material(n);
  const int dcf_bits = value_bits - 1;
  net::Mesh& mesh = proto_.mesh();
  std::optional<MatrixReader> reader;
  {
    net::PhaseScope phase(mesh.stats(), kOfflinePhase);
    reader.emplace(mesh.recv(kDealerId), kWhat);
  }
  const DcfCorrections keys = read_corrections(*reader, n, dcf_bits);
  RingMatrix top_share(x.rows(), x.cols());
  if (self_ == 0) {
    for (std::size_t i = 0; i < n; ++i) top_share.data()[i] = m.top0[i];
  } else {
    top_share = reader->next(x.rows(), x.cols());
  }
  reader->expect_end();
  // Open y = x + r mod 2^w. The whole 64-bit share of x + r travels: uniform, whatever w.
  const std::vector<u64>& mask = self_ == 0 ? m.mask0 : m.mask1;
  RingMatrix masked = additive_share(x);
  for (std::size_t i = 0; i < n; ++i) masked.data()[i] += mask[i];
  const int peer = 1 - self_;
  const net::Bytes payload = pack(std::span<const RingMatrix>(&masked, 1));
  const net::Outgoing out[] = {{peer, payload}};
  const int from[] = {peer};
  const RingMatrix theirs = unpack_one(mesh.exchange(out, from).at(0), Shape{x.rows(), x.cols()}, "FSS masked input");
  std::vector<u64> low(n), top(n);
  for (std::size_t i = 0; i < n; ++i) {
    const u64 y = (masked.data()[i] + theirs.data()[i]) & low_mask(value_bits);
    low[i] = y & low_mask(dcf_bits);
    top[i] = y >> dcf_bits;
  }
  const std::vector<u64> below = dcf_evaluate(aes_, self_, self_ == 0 ? m.root0 : m.root1, keys, low);
  RingMatrix bit(x.rows(), x.cols());
  for (std::size_t i = 0; i < n; ++i) {
    const u64 z = top_share.data()[i] + below[i];  // share of r_top xor [y' < r']
    bit.data()[i] = top[i] ? (self_ == 0 ? u64{1} : u64{0}) - z : z;
  }
  return as_replicated(std::move(bit));
}

}  // namespace protocols::fss
