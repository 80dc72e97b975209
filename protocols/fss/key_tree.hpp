// The node arithmetic shared by the DCF and DPF key trees: a node's seed carries its control bit in
// bit 0, and its PRG inputs are the seed with the two low bits replaced by the part wanted.
#pragma once

#include "protocols/fss/fixed_key_aes.hpp"

#include <cstdint>

namespace protocols::fss::key_tree {

using u64 = std::uint64_t;

// H(s | part): the seed's two low bits cleared and set to `part`.
inline Block prg_input(Block seed, u64 part) { return seed.without_low_bits(2).with_low_bits(part); }

// The root of party b has control bit b, so that the two roots differ in it.
inline Block root_of(Block seed, int party) { return seed.without_low_bits(1).with_low_bits(static_cast<u64>(party)); }

// Bit `level` of x counted from the top of `bits` bits (the tree's path).
inline int bit_of(u64 x, int bits, int level) { return static_cast<int>((x >> (bits - 1 - level)) & 1); }

// v, or -v when `negative` (party 1's sign, or the correction's): (v xor m) - m for m all ones or
// zero, without a branch on what is often a random control bit.
inline u64 signed_by(int negative, u64 v) {
  const u64 m = u64{0} - static_cast<u64>(negative != 0);
  return (v ^ m) - m;
}

// b where `bit` is set, else the zero block, without a branch.
inline Block masked_by(int bit, Block b) {
  const u64 m = u64{0} - static_cast<u64>(bit != 0);
  return {b.lo & m, b.hi & m};
}

// Word w (0: low, 1: high) of a block.
inline u64 word(Block b, std::size_t w) { return w == 0 ? b.lo : b.hi; }

// The input of a node's second PRG block, for payload words 2 and 3: H(s | part) with the top bit
// flipped, which no other input of the tree takes (seeds are uniform).
inline Block extra_input(Block seed, u64 part) {
  Block b = prg_input(seed, part);
  b.hi ^= u64{1} << 63;
  return b;
}

}  // namespace protocols::fss::key_tree
