#include "protocols/boolean.hpp"

#include "protocols/common/bit_words.hpp"
#include "protocols/common/share_components.hpp"

#include <stdexcept>

namespace protocols {

BoolShare BooleanBackend::xor_(const BoolShare& x, const BoolShare& y) {
  if (x.rows() != y.rows() || x.cols() != y.cols()) throw std::invalid_argument("xor_: shape mismatch");
  return map_components(x, y, bit_xor);
}

BoolShare BooleanBackend::and_public(const BoolShare& x, u64 mask) {
  return map_components(x, [mask](const RingMatrix& a) -> RingMatrix { return a.unaryExpr([mask](u64 v) { return v & mask; }); });
}

BoolShare BooleanBackend::shift_left(const BoolShare& x, int bits) {
  if (bits < 0 || bits > 63) throw std::invalid_argument("shift_left: shift must be in [0, 63]");
  return map_components(x, [bits](const RingMatrix& a) -> RingMatrix { return a.unaryExpr([bits](u64 v) { return v << bits; }); });
}

BoolShare BooleanBackend::shift_right(const BoolShare& x, int bits) {
  if (bits < 0 || bits > 63) throw std::invalid_argument("shift_right: shift must be in [0, 63]");
  return map_components(x, [bits](const RingMatrix& a) -> RingMatrix { return a.unaryExpr([bits](u64 v) { return v >> bits; }); });
}

BoolShare BooleanBackend::xor_public(const BoolShare& x, u64 c) const {
  return xor_public(x, RingMatrix::Constant(x.rows(), x.cols(), c));
}

BoolShare BooleanBackend::constant(const RingMatrix& c) const {
  BoolShare zero;
  zero.first = RingMatrix::Zero(c.rows(), c.cols());
  if (proto_->backend() == Backend::ThreePartyReplicated) zero.second = RingMatrix::Zero(c.rows(), c.cols());
  return xor_public(zero, c);
}

void BooleanBackend::check_and_operands(std::span<const BoolShare> x, std::span<const BoolShare> y) {
  if (x.size() != y.size()) throw std::invalid_argument("and_: operand lists differ in length");
  for (std::size_t t = 0; t < x.size(); ++t) {
    if (x[t].rows() != y[t].rows() || x[t].cols() != y[t].cols()) throw std::invalid_argument("and_: shape mismatch");
  }
}

BoolShare BooleanBackend::and_(const BoolShare& x, const BoolShare& y) {
  return and_(std::span<const BoolShare>(&x, 1), std::span<const BoolShare>(&y, 1)).front();
}

}  // namespace protocols
