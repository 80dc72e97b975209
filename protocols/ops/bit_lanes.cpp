#include "protocols/ops/bit_lanes.hpp"

#include "protocols/common/share_components.hpp"

#include <stdexcept>
#include <string>

namespace protocols::ops {

namespace {
u64 low_bits(int width) { return width >= 64 ? ~u64{0} : (u64{1} << width) - 1; }
}  // namespace

LaneLayout LaneLayout::for_width(int width) {
  if (width < 1 || width > 64) throw std::invalid_argument("lane width must be in [1, 64], got " + std::to_string(width));
  return LaneLayout{width, 64 / width};
}

u64 LaneLayout::at_or_above(int k) const {
  u64 mask = 0;
  for (int lane = 0; lane < per_word; ++lane) mask |= (low_bits(width) & ~low_bits(k)) << (lane * width);
  return mask;
}

BoolShare pack_lanes(const BoolShare& x, const LaneLayout& layout) {
  if (layout.per_word == 1) return x;  // one lane is the word itself
  const u64 keep = low_bits(layout.width);
  const Eigen::Index count = x.first.size(), words = (count + layout.per_word - 1) / layout.per_word;
  return map_components(x, [&](const RingMatrix& m) -> RingMatrix {
    RingMatrix packed = RingMatrix::Zero(1, words);
    for (Eigen::Index i = 0; i < count; ++i)
      packed(0, i / layout.per_word) |= (m.data()[i] & keep) << ((i % layout.per_word) * layout.width);
    return packed;
  });
}

BoolShare unpack_lane_bit(const BoolShare& packed, const LaneLayout& layout, int bit, Eigen::Index rows,
                          Eigen::Index cols) {
  if (bit < 0 || bit >= layout.width) throw std::invalid_argument("unpack_lane_bit: bit outside the lane");
  return map_components(packed, [&](const RingMatrix& m) -> RingMatrix {
    RingMatrix out(rows, cols);
    for (Eigen::Index i = 0; i < out.size(); ++i) {
      const int shift = static_cast<int>(i % layout.per_word) * layout.width + bit;
      out.data()[i] = (m.data()[i / layout.per_word] >> shift) & 1u;
    }
    return out;
  });
}

}  // namespace protocols::ops
