// Distributed comparison functions (Boyle, Chandran, Gilboa, Gupta, Ishai, Kumar, Rathee,
// "Function Secret Sharing for Mixed-Mode and Fixed-Point Secure Computation", EUROCRYPT 2021):
// two keys for f(x) = beta if x < alpha else 0, on `bits`-bit unsigned inputs with outputs in
// Z_2^64, such that each key alone reveals nothing about alpha or beta and the two evaluations at
// any x add up to f(x).
//
// A key is the party's root seed plus correction words common to both keys: per input bit one
// 128-bit block (seed correction in bits 127..2, the left and right control-bit corrections in
// bits 1 and 0) and one 64-bit value correction, and one final value correction. The roots come
// from the seeds the dealer shares with each party, so only the correction words travel:
// 24 * bits + 8 bytes per key (1,520 bytes at 63 bits), to each of the two parties.
//
// Everything works on batches of independent keys, level by level, so that one AES call hashes
// the seeds of all keys of a level (fixed_key_aes.hpp). Key generation costs 8 AES blocks per level
// and key, evaluation 2.
#pragma once

#include "protocols/fss/fixed_key_aes.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace protocols::fss {

using u64 = std::uint64_t;

// A payload of `width` words (1 to 4) per key: the second word uses the other half of the same
// value block, so it costs no AES work, only 8 more bytes per level; words 3 and 4 come from a
// second value block (key_tree::extra_input), one more AES block per level and party.
struct DcfCorrections {
  int bits = 0;
  int width = 1;
  std::vector<Block> seed;   // keys x bits, key-major
  std::vector<u64> value;    // keys x bits x width
  std::vector<u64> final;    // keys x width

  std::size_t keys() const { return final.size() / static_cast<std::size_t>(width); }
  static std::size_t bytes_per_key(int bits, int width = 1) {
    return (16 + 8 * static_cast<std::size_t>(width)) * static_cast<std::size_t>(bits) + 8 * static_cast<std::size_t>(width);
  }
};

// The correction words read in place: from a DcfCorrections, or from a received frame that
// outlives the view (the keys are evaluated where they arrived, without a copy).
struct DcfKeysView {
  int bits = 0;
  int width = 1;
  std::span<const Block> seed;   // keys x bits, key-major
  std::span<const u64> value;    // keys x bits x width
  std::span<const u64> final;    // keys x width

  DcfKeysView() = default;
  DcfKeysView(const DcfCorrections& keys)  // NOLINT: a view of the keys
      : bits(keys.bits), width(keys.width), seed(keys.seed), value(keys.value), final(keys.final) {}
  DcfKeysView(int bits_, int width_, std::span<const Block> seed_, std::span<const u64> value_, std::span<const u64> final_)
      : bits(bits_), width(width_), seed(seed_), value(value_), final(final_) {}
  std::size_t keys() const { return final.size() / static_cast<std::size_t>(width); }
};

// Correction words of keys[k] = DCF(alpha[k], beta[k]) for root seeds root0[k] (party 0) and
// root1[k] (party 1). 1 <= bits <= 64; alpha below 2^bits; beta holds keys x width words.
DcfCorrections dcf_generate(FixedKeyAes& aes, int bits, std::span<const u64> alpha, std::span<const u64> beta,
                            std::span<const Block> root0, std::span<const Block> root1, int width = 1);

// Party `party` (0 or 1)'s shares of f_k(x[k]) for every key k (keys x width words).
std::vector<u64> dcf_evaluate(FixedKeyAes& aes, int party, std::span<const Block> root, const DcfKeysView& keys,
                              std::span<const u64> x);

}  // namespace protocols::fss
