#include "protocols/fss/dpf.hpp"

#include "protocols/fss/key_tree.hpp"

#include <stdexcept>
#include <string>

namespace protocols::fss {

namespace {

using namespace key_tree;

// The PRG inputs of a node: its left and right children, and the output block of a leaf pair,
// from H(s | j) with the seed's two low bits cleared.
enum Part : std::uint64_t { kLeft = 0, kRight = 1, kOutput = 2 };

void check_bits(int bits, const char* what) {
  if (bits < 1 || bits > kMaxDpfBits)
    throw std::invalid_argument(std::string(what) + ": input bits must be in [1, " + std::to_string(kMaxDpfBits) + "]");
}

// The child of a node on side `side`, given its hash and the level's correction word, which applies
// when the parent's control bit is set: without a branch, since that bit is random.
Block child(Block hashed, int parent_t, Block cw, int side) {
  const u64 t_cw = side == kLeft ? (cw.lo >> 1) & 1 : cw.lo & 1;
  return hashed ^ masked_by(parent_t, cw.without_low_bits(2).with_low_bits(t_cw));
}

}  // namespace

DpfCorrections dpf_generate(FixedKeyAes& aes, int bits, std::span<const u64> alpha, std::span<const u64> beta,
                            std::span<const Block> root0, std::span<const Block> root1) {
  check_bits(bits, "dpf_generate");
  const std::size_t n = alpha.size();
  if (beta.size() != n || root0.size() != n || root1.size() != n) throw std::invalid_argument("dpf_generate: batch sizes differ");
  for (const u64 a : alpha)
    if (a >> bits) throw std::invalid_argument("dpf_generate: alpha must lie below 2^bits");
  DpfCorrections keys;
  keys.bits = bits;
  const int levels = keys.levels();
  keys.seed.resize(n * static_cast<std::size_t>(levels));
  keys.final.resize(n);
  std::vector<Block> s[2], hashed(4 * n);
  for (int b = 0; b < 2; ++b) s[b].resize(n);
  for (std::size_t k = 0; k < n; ++k) s[0][k] = root_of(root0[k], 0), s[1][k] = root_of(root1[k], 1);
  for (int level = 0; level < levels; ++level) {
    for (std::size_t k = 0; k < n; ++k)
      for (int b = 0; b < 2; ++b)
        for (u64 part = 0; part < 2; ++part) hashed[4 * k + 2 * b + part] = prg_input(s[b][k], part);
    aes.hash(hashed, hashed);
    for (std::size_t k = 0; k < n; ++k) {
      const Block* h0 = &hashed[4 * k];
      const Block* h1 = h0 + 2;
      const int keep = bit_of(alpha[k], bits, level), lose = 1 - keep;
      const Block seed_cw = (h0[lose] ^ h1[lose]).without_low_bits(2);
      const u64 t_left = static_cast<u64>((h0[kLeft] ^ h1[kLeft]).lsb() ^ keep ^ 1);
      const u64 t_right = static_cast<u64>((h0[kRight] ^ h1[kRight]).lsb() ^ keep);
      const Block cw = seed_cw.with_low_bits((t_left << 1) | t_right);
      keys.seed[k * levels + level] = cw;
      s[0][k] = child(h0[keep], s[0][k].lsb(), cw, keep);
      s[1][k] = child(h1[keep], s[1][k].lsb(), cw, keep);
    }
  }
  // The leaf pair holding alpha: its outputs become beta at alpha's word and 0 at the other.
  for (std::size_t k = 0; k < n; ++k) hashed[2 * k] = prg_input(s[0][k], kOutput), hashed[2 * k + 1] = prg_input(s[1][k], kOutput);
  std::span<Block> outputs(hashed.data(), 2 * n);
  aes.hash(outputs, outputs);
  for (std::size_t k = 0; k < n; ++k) {
    const int t1 = s[1][k].lsb(), at = static_cast<int>(alpha[k] & 1);
    u64 cw[2];
    for (int w = 0; w < 2; ++w)
      cw[w] = signed_by(t1, (w == at ? beta[k] : 0) - word(hashed[2 * k], w) + word(hashed[2 * k + 1], w));
    keys.final[k] = {cw[0], cw[1]};
  }
  return keys;
}

std::vector<u64> dpf_evaluate_domain(FixedKeyAes& aes, int party, std::span<const Block> root,
                                     const DpfCorrections& keys, std::size_t first, std::size_t count) {
  check_bits(keys.bits, "dpf_evaluate_domain");
  if (party != 0 && party != 1) throw std::invalid_argument("dpf_evaluate_domain: party must be 0 or 1");
  if (root.size() != keys.keys() || first + count > keys.keys())
    throw std::invalid_argument("dpf_evaluate_domain: keys and roots differ or the range is out of bounds");
  const int levels = keys.levels();
  std::vector<Block> nodes(count), hashed;
  for (std::size_t k = 0; k < count; ++k) nodes[k] = root_of(root[first + k], party);
  std::size_t width = 1;  // nodes per key at this level
  for (int level = 0; level < levels; ++level, width *= 2) {
    hashed.resize(2 * nodes.size());
    for (std::size_t i = 0; i < nodes.size(); ++i)
      hashed[2 * i] = prg_input(nodes[i], kLeft), hashed[2 * i + 1] = prg_input(nodes[i], kRight);
    aes.hash(hashed, hashed);
    for (std::size_t k = 0; k < count; ++k) {
      const Block cw = keys.seed[(first + k) * levels + level];
      for (std::size_t i = 0; i < width; ++i) {
        const int t = nodes[k * width + i].lsb();
        const std::size_t c = 2 * (k * width + i);
        hashed[c] = child(hashed[c], t, cw, kLeft);
        hashed[c + 1] = child(hashed[c + 1], t, cw, kRight);
      }
    }
    nodes.swap(hashed);
  }
  hashed.resize(nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i) hashed[i] = prg_input(nodes[i], kOutput);
  aes.hash(hashed, hashed);
  const std::size_t domain = std::size_t{1} << keys.bits;
  std::vector<u64> out(count * domain);
  for (std::size_t k = 0; k < count; ++k) {
    const Block cw = keys.final[first + k];
    for (std::size_t i = 0; i < width; ++i) {
      const Block node = nodes[k * width + i], conv = hashed[k * width + i];
      const int t = node.lsb();
      const Block correction = masked_by(t, cw);
      for (int w = 0; w < 2; ++w) out[k * domain + 2 * i + w] = signed_by(party, word(conv, w) + word(correction, w));
    }
  }
  return out;
}

}  // namespace protocols::fss
