// Distributed point functions (Boyle, Gilboa, Ishai, "Function Secret Sharing: Improvements and
// Extensions", CCS 2016): two keys for f(x) = beta if x == alpha else 0, on `bits`-bit inputs with
// outputs in Z_2^64, such that each key alone reveals nothing about alpha or beta and the two
// evaluations at any x add up to f(x). Their use here is the lookup table (fss_lookup.hpp), which
// evaluates every key on its whole (small) domain.
//
// Early termination: the tree stops one level above the leaves, and a node there holds the outputs
// of two neighbouring inputs (two 64-bit words of one 128-bit block). A key is the party's root seed
// plus correction words common to both keys: per tree level one 128-bit block (seed correction in
// bits 127..2, left and right control-bit corrections in bits 1 and 0), and one final 128-bit
// output correction. The roots come from the seeds the dealer shares with each party, so only the
// correction words travel: 16 * bits bytes per key (144 at 9 bits), to each of the two parties.
//
// Work is batched level by level over all keys, so that one AES call hashes a whole level
// (fixed_key_aes.hpp). Evaluating a key on its whole domain costs about 1.5 AES blocks per input.
#pragma once

#include "protocols/fss/fixed_key_aes.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace protocols::fss {

using u64 = std::uint64_t;

// Widest domain of a lookup: full-domain evaluation is 2^bits outputs per key.
inline constexpr int kMaxDpfBits = 20;

struct DpfCorrections {
  int bits = 0;
  std::vector<Block> seed;   // keys x (bits - 1), key-major
  std::vector<Block> final;  // keys: corrections of the even (lo) and odd (hi) input of the leaf pair

  std::size_t keys() const { return final.size(); }
  int levels() const { return bits - 1; }
  static std::size_t bytes_per_key(int bits) { return 16 * static_cast<std::size_t>(bits); }
};

// Correction words of keys[k] = DPF(alpha[k], beta[k]) for root seeds root0[k] (party 0) and
// root1[k] (party 1). 1 <= bits <= kMaxDpfBits; alpha below 2^bits.
DpfCorrections dpf_generate(FixedKeyAes& aes, int bits, std::span<const u64> alpha, std::span<const u64> beta,
                            std::span<const Block> root0, std::span<const Block> root1);

// Party `party` (0 or 1)'s shares of f_k(x) for x = 0 .. 2^bits - 1 and the keys first .. first +
// count - 1 (their roots: root[first ..]): count x 2^bits values, key-major.
std::vector<u64> dpf_evaluate_domain(FixedKeyAes& aes, int party, std::span<const Block> root,
                                     const DpfCorrections& keys, std::size_t first, std::size_t count);

}  // namespace protocols::fss
