#include "protocols/fss/dcf.hpp"

#include "protocols/fss/key_tree.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace protocols::fss {

namespace {

using namespace key_tree;

// The four outputs of a node's PRG: left and right child seeds (control bit in bit 0), and the
// left and right values (low 64 bits), from H(s | j) with the seed's two low bits cleared.
enum Part : std::uint64_t { kLeft = 0, kRight = 1, kLeftValue = 2, kRightValue = 3 };

constexpr std::size_t kChunkKeys = 2048;

void check_sizes(int bits, std::size_t a, std::size_t b, std::size_t c, const char* what) {
  if (bits < 1 || bits > 64) throw std::invalid_argument(std::string(what) + ": input bits must be in [1, 64]");
  if (a != b || a != c) throw std::invalid_argument(std::string(what) + ": batch sizes differ");
}

// Word w of a node's value for the child `side`: h holds the node's four PRG outputs and, for
// payloads wider than two words, its two extra value blocks after them.
u64 value_word(const Block* h, int side, std::size_t w) {
  return w < 2 ? word(h[2 + side], w) : word(h[4 + side], w - 2);
}

// Word w of a leaf's output: the seed itself for the first two, its extra block for the others.
u64 leaf_word(Block seed, Block extra, std::size_t w) {
  return w < 2 ? word(seed.without_low_bits(2), w) : word(extra, w - 2);
}

// The leaves' extra blocks (payloads wider than two words only).
std::vector<Block> leaf_extras(FixedKeyAes& aes, const std::vector<Block>& leaves, std::size_t wd) {
  if (wd <= 2) return std::vector<Block>(leaves.size());
  std::vector<Block> in(leaves.size());
  for (std::size_t k = 0; k < leaves.size(); ++k) in[k] = extra_input(leaves[k], 0);
  aes.hash(in, in);
  return in;
}

// Keys first .. first + count - 1 of a batch; batches are worked through in chunks of kChunkKeys
// keys, all levels of a chunk at a time, so that the working arrays stay in cache.
void generate_chunk(FixedKeyAes& aes, int bits, std::span<const u64> alpha, std::span<const u64> beta,
                    std::span<const Block> root0, std::span<const Block> root1, std::size_t first, std::size_t n,
                    DcfCorrections& keys) {
  const std::size_t wd = static_cast<std::size_t>(keys.width);
  const std::size_t parts = wd > 2 ? 6 : 4;  // seeds, values and (wide payloads) extra values
  std::vector<Block> s[2], hashed(2 * parts * n);
  std::vector<u64> v_alpha(n * wd, 0);
  for (int b = 0; b < 2; ++b) s[b].resize(n);
  for (std::size_t k = 0; k < n; ++k) s[0][k] = root_of(root0[first + k], 0), s[1][k] = root_of(root1[first + k], 1);
  for (int level = 0; level < bits; ++level) {
    for (std::size_t k = 0; k < n; ++k)
      for (int b = 0; b < 2; ++b) {
        Block* h = &hashed[2 * parts * k + parts * b];
        for (u64 part = 0; part < 4; ++part) h[part] = prg_input(s[b][k], part);
        if (parts == 6) h[4] = extra_input(s[b][k], 2), h[5] = extra_input(s[b][k], 3);
      }
    aes.hash(hashed, hashed);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t key = first + k;
      const Block* h0 = &hashed[2 * parts * k];
      const Block* h1 = h0 + parts;
      const int keep = bit_of(alpha[key], bits, level), lose = 1 - keep;
      const int t0 = s[0][k].lsb(), t1 = s[1][k].lsb();
      const Block seed_cw = (h0[lose] ^ h1[lose]).without_low_bits(2);
      for (std::size_t w = 0; w < wd; ++w) {
        u64& va = v_alpha[k * wd + w];
        u64 value_cw = signed_by(t1, value_word(h1, lose, w) - value_word(h0, lose, w) - va);
        // Inputs left of alpha's path are below alpha (a mask: the path's bit is random).
        value_cw += signed_by(t1, beta[key * wd + w]) & (u64{0} - static_cast<u64>(lose == kLeft));
        va = va - value_word(h1, keep, w) + value_word(h0, keep, w) + signed_by(t1, value_cw);
        keys.value[(key * bits + level) * wd + w] = value_cw;
      }
      const u64 t_left = static_cast<u64>((h0[kLeft] ^ h1[kLeft]).lsb() ^ keep ^ 1);
      const u64 t_right = static_cast<u64>((h0[kRight] ^ h1[kRight]).lsb() ^ keep);
      keys.seed[key * bits + level] = seed_cw.with_low_bits((t_left << 1) | t_right);
      const Block keep_cw = seed_cw.with_low_bits(keep == kLeft ? t_left : t_right);
      s[0][k] = h0[keep] ^ masked_by(t0, keep_cw);
      s[1][k] = h1[keep] ^ masked_by(t1, keep_cw);
    }
  }
  const std::vector<Block> extra0 = leaf_extras(aes, s[0], wd), extra1 = leaf_extras(aes, s[1], wd);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t w = 0; w < wd; ++w)
      keys.final[(first + k) * wd + w] = signed_by(s[1][k].lsb(), leaf_word(s[1][k], extra1[k], w) -
                                                                      leaf_word(s[0][k], extra0[k], w) - v_alpha[k * wd + w]);
}

void evaluate_chunk(FixedKeyAes& aes, int party, std::span<const Block> root, const DcfKeysView& keys,
                    std::span<const u64> x, std::size_t first, std::size_t n, std::vector<u64>& v) {
  const std::size_t wd = static_cast<std::size_t>(keys.width);
  const std::size_t parts = wd > 2 ? 3 : 2;  // the path's seed, its value and (wide payloads) extra value
  const int bits = keys.bits;
  std::vector<Block> s(n), hashed(parts * n);
  for (std::size_t k = 0; k < n; ++k) s[k] = root_of(root[first + k], party);
  for (int level = 0; level < bits; ++level) {
    for (std::size_t k = 0; k < n; ++k) {
      const u64 bit = static_cast<u64>(bit_of(x[first + k], bits, level));
      hashed[parts * k] = prg_input(s[k], bit);
      hashed[parts * k + 1] = prg_input(s[k], 2 + bit);
      if (parts == 3) hashed[parts * k + 2] = extra_input(s[k], 2 + bit);
    }
    aes.hash(hashed, hashed);
    for (std::size_t k = 0; k < n; ++k) {
      const std::size_t key = first + k;
      const int bit = bit_of(x[key], bits, level);
      // The control bit is random: its corrections apply by mask, not by branch.
      const int t = s[k].lsb();
      const u64 keep = u64{0} - static_cast<u64>(t);
      const Block cw = keys.seed[key * bits + level];
      const u64 t_cw = bit == 0 ? (cw.lo >> 1) & 1 : cw.lo & 1;
      for (std::size_t w = 0; w < wd; ++w) {
        const u64 value = w < 2 ? word(hashed[parts * k + 1], w) : word(hashed[parts * k + 2], w - 2);
        v[key * wd + w] += signed_by(party, value + (keys.value[(key * bits + level) * wd + w] & keep));
      }
      s[k] = hashed[parts * k] ^ masked_by(t, cw.without_low_bits(2).with_low_bits(t_cw));
    }
  }
  const std::vector<Block> extras = leaf_extras(aes, s, wd);
  for (std::size_t k = 0; k < n; ++k)
    for (std::size_t w = 0; w < wd; ++w)
      v[(first + k) * wd + w] += signed_by(party, leaf_word(s[k], extras[k], w) + (s[k].lsb() ? keys.final[(first + k) * wd + w] : 0));
}

}  // namespace

DcfCorrections dcf_generate(FixedKeyAes& aes, int bits, std::span<const u64> alpha, std::span<const u64> beta,
                            std::span<const Block> root0, std::span<const Block> root1, int width) {
  check_sizes(bits, alpha.size(), root0.size(), root1.size(), "dcf_generate");
  if (width < 1 || width > 4) throw std::invalid_argument("dcf_generate: payload width must be in [1, 4]");
  if (beta.size() != alpha.size() * static_cast<std::size_t>(width)) throw std::invalid_argument("dcf_generate: batch sizes differ");
  const std::size_t n = alpha.size(), wd = static_cast<std::size_t>(width);
  DcfCorrections keys;
  keys.bits = bits;
  keys.width = width;
  keys.seed.resize(n * bits);
  keys.value.resize(n * bits * wd);
  keys.final.resize(n * wd);
  for (std::size_t first = 0; first < n; first += kChunkKeys)
    generate_chunk(aes, bits, alpha, beta, root0, root1, first, std::min(kChunkKeys, n - first), keys);
  return keys;
}

std::vector<u64> dcf_evaluate(FixedKeyAes& aes, int party, std::span<const Block> root, const DcfKeysView& keys,
                              std::span<const u64> x) {
  check_sizes(keys.bits, root.size(), keys.keys(), x.size(), "dcf_evaluate");
  const std::size_t levels = keys.keys() * static_cast<std::size_t>(keys.bits);
  if (keys.seed.size() != levels || keys.value.size() != levels * static_cast<std::size_t>(keys.width))
    throw std::invalid_argument("dcf_evaluate: correction words of the wrong size");
  if (party != 0 && party != 1) throw std::invalid_argument("dcf_evaluate: party must be 0 or 1");
  std::vector<u64> v(x.size() * static_cast<std::size_t>(keys.width), 0);
  for (std::size_t first = 0; first < x.size(); first += kChunkKeys)
    evaluate_chunk(aes, party, root, keys, x, first, std::min(kChunkKeys, x.size() - first), v);
  return v;
}

}  // namespace protocols::fss
