// Several narrow values per 64-bit word of a boolean share. A comparison or an equality test of
// values known to fit in w bits only needs their low w bits, so floor(64 / w) of them share one
// word and every AND round carries that many times fewer words. Packing and unpacking are local
// rearrangements of bits (XOR-linear), applied to every component of the share.
#pragma once

#include "protocols/boolean.hpp"

namespace protocols::ops {

struct LaneLayout {
  int width = 64;    // bits per lane
  int per_word = 1;  // lanes per word: floor(64 / width)

  static LaneLayout for_width(int width);
  // Per word, the bits at offset >= k inside each lane: a shift left by k may keep only these
  // (the rest came from the lane below). All ones for a single 64-bit lane.
  u64 at_or_above(int k) const;
};

// Low `layout.width` bits of element i (row-major) into lane i % per_word of word i / per_word;
// the result is one row of ceil(count / per_word) words.
BoolShare pack_lanes(const BoolShare& x, const LaneLayout& layout);
// Bit `bit` of every lane back into bit 0 of one word per element, in the original shape.
BoolShare unpack_lane_bit(const BoolShare& packed, const LaneLayout& layout, int bit, Eigen::Index rows,
                          Eigen::Index cols);

}  // namespace protocols::ops
