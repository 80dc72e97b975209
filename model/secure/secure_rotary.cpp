#include "model/secure/secure_rotary.hpp"

#include "model/layers.hpp"
#include "protocols/ops/share_layout.hpp"

#include <cmath>

namespace model::secure {

using mpc::RingMatrix;
using protocols::Share;

namespace {

// x * cos + swap_halves(x) * sin', with sin' = -sin on the first half of each head.
struct RotationTables {
  RingMatrix cosines, sines;
};

RotationTables rotation_tables(const mpc::FixedPoint& fp, const ModelConfig& c, Eigen::Index rows, int first_position) {
  const int d = c.head_dim, half = d / 2, blocks = c.heads + c.kv_heads;
  const Eigen::Index width = static_cast<Eigen::Index>(blocks) * d;
  RotationTables t{RingMatrix(rows, width), RingMatrix(rows, width)};
  for (Eigen::Index r = 0; r < rows; ++r) {
    for (int i = 0; i < half; ++i) {
      const double angle = rope_angle(first_position + static_cast<int>(r), i, d, c.rope_theta);
      const mpc::u64 cosine = fp.encode(std::cos(angle)), sine = fp.encode(std::sin(angle)),
                     minus_sine = fp.encode(-std::sin(angle));
      for (int b = 0; b < blocks; ++b) {
        t.cosines(r, b * d + i) = t.cosines(r, b * d + i + half) = cosine;
        t.sines(r, b * d + i) = minus_sine;
        t.sines(r, b * d + i + half) = sine;
      }
    }
  }
  return t;
}

RingMatrix swap_halves(const RingMatrix& m, int blocks, int d) {
  const int half = d / 2;
  RingMatrix out(m.rows(), m.cols());
  for (int b = 0; b < blocks; ++b) {
    out.middleCols(b * d, half) = m.middleCols(b * d + half, half);
    out.middleCols(b * d + half, half) = m.middleCols(b * d, half);
  }
  return out;
}

}  // namespace

Share rotate_positions(protocols::Protocol& proto, const ModelConfig& c, const Share& qkv, int first_position) {
  const int blocks = c.heads + c.kv_heads;
  const Eigen::Index rotated_width = static_cast<Eigen::Index>(blocks) * c.head_dim;
  const RotationTables t = rotation_tables(proto.fixed_point(), c, qkv.rows(), first_position);
  const Share x = protocols::ops::columns(qkv, 0, rotated_width);
  const Share swapped =
      protocols::map_components(x, [&](const RingMatrix& m) -> RingMatrix { return swap_halves(m, blocks, c.head_dim); });
  const Share rotated = proto.truncate(proto.add(proto.mul_public(x, t.cosines), proto.mul_public(swapped, t.sines)));
  const Share parts[] = {rotated, protocols::ops::columns(qkv, rotated_width, qkv.cols() - rotated_width)};
  return protocols::ops::concat_columns(parts);
}

}  // namespace model::secure
