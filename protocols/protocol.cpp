#include "protocols/protocol.hpp"

namespace protocols {

std::string to_string(Backend b) {
  switch (b) {
    case Backend::TwoPartyDealer: return "2pc";
    case Backend::ThreePartyReplicated: return "3pc";
  }
  return "?";
}

std::string to_string(Role r) {
  switch (r) {
    case Role::P0: return "P0";
    case Role::P1: return "P1";
    case Role::P2: return "P2";
    case Role::Dealer: return "dealer";
  }
  return "?";
}

namespace {
template <class F>
Share componentwise(const Share& x, F f) {
  Share out;
  out.first = f(x.first);
  if (x.second.size() > 0) out.second = f(x.second);
  return out;
}
template <class F>
Share componentwise(const Share& x, const Share& y, F f) {
  Share out;
  out.first = f(x.first, y.first);
  if (x.second.size() > 0) out.second = f(x.second, y.second);
  return out;
}
}  // namespace

Share Protocol::add(const Share& x, const Share& y) const {
  return componentwise(x, y, [](const RingMatrix& a, const RingMatrix& b) -> RingMatrix { return a + b; });
}
Share Protocol::sub(const Share& x, const Share& y) const {
  return componentwise(x, y, [](const RingMatrix& a, const RingMatrix& b) -> RingMatrix { return a - b; });
}
Share Protocol::neg(const Share& x) const {
  return componentwise(x, [](const RingMatrix& a) -> RingMatrix { return RingMatrix::Zero(a.rows(), a.cols()) - a; });
}
Share Protocol::scale(const Share& x, u64 c) const {
  return componentwise(x, [c](const RingMatrix& a) -> RingMatrix { return a * c; });
}
Share Protocol::mul_public(const Share& x, const RingMatrix& c) const {
  return componentwise(x, [&c](const RingMatrix& a) -> RingMatrix { return a.cwiseProduct(c); });
}
Share Protocol::matmul_public(const Share& x, const RingMatrix& c) const {
  return componentwise(x, [&c](const RingMatrix& a) -> RingMatrix { return a * c; });
}
Share Protocol::public_matmul(const RingMatrix& c, const Share& x) const {
  return componentwise(x, [&c](const RingMatrix& a) -> RingMatrix { return c * a; });
}

Share Protocol::mul(const Share& x, const Share& y) {
  return mul(std::span<const Share>(&x, 1), std::span<const Share>(&y, 1)).front();
}
Share Protocol::matmul(const Share& x, const Share& y) {
  return matmul(std::span<const Share>(&x, 1), std::span<const Share>(&y, 1)).front();
}
FixedOperand Protocol::fix(const Share& w) { return std::move(fix(std::span<const Share>(&w, 1)).front()); }
void Protocol::append_rows(FixedOperand& w, const Share& rows) {
  FixedOperand* p = &w;
  append_rows(std::span<FixedOperand* const>(&p, 1), std::span<const Share>(&rows, 1));
}
Share Protocol::matmul_fixed(const Share& x, const FixedOperand& w) {
  const FixedOperand* p = &w;
  return matmul_fixed(std::span<const Share>(&x, 1), std::span<const FixedOperand* const>(&p, 1)).front();
}
Share Protocol::matmul_fixed_transposed(const Share& x, const FixedOperand& w) {
  const FixedOperand* p = &w;
  return matmul_fixed_transposed(std::span<const Share>(&x, 1), std::span<const FixedOperand* const>(&p, 1)).front();
}
Share Protocol::truncate(const Share& x, int bits) {
  return truncate(std::span<const Share>(&x, 1), bits).front();
}

}  // namespace protocols
