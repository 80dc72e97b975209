#include "protocols/protocol.hpp"

#include "protocols/common/share_components.hpp"

#include <algorithm>

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

Share Protocol::add(const Share& x, const Share& y) const {
  return map_components(x, y, [](const RingMatrix& a, const RingMatrix& b) -> RingMatrix { return a + b; });
}
Share Protocol::sub(const Share& x, const Share& y) const {
  return map_components(x, y, [](const RingMatrix& a, const RingMatrix& b) -> RingMatrix { return a - b; });
}
Share Protocol::neg(const Share& x) const {
  return map_components(x, [](const RingMatrix& a) -> RingMatrix { return RingMatrix::Zero(a.rows(), a.cols()) - a; });
}
Share Protocol::scale(const Share& x, u64 c) const {
  return map_components(x, [c](const RingMatrix& a) -> RingMatrix { return a * c; });
}
Share Protocol::mul_public(const Share& x, const RingMatrix& c) const {
  return map_components(x, [&c](const RingMatrix& a) -> RingMatrix { return a.cwiseProduct(c); });
}
Share Protocol::matmul_public(const Share& x, const RingMatrix& c) const {
  return map_components(x, [&c](const RingMatrix& a) -> RingMatrix { return a * c; });
}
Share Protocol::public_matmul(const RingMatrix& c, const Share& x) const {
  return map_components(x, [&c](const RingMatrix& a) -> RingMatrix { return c * a; });
}

Share Protocol::mul(const Share& x, const Share& y) {
  return mul(std::span<const Share>(&x, 1), std::span<const Share>(&y, 1)).front();
}
Share Protocol::matmul(const Share& x, const Share& y) {
  return matmul(std::span<const Share>(&x, 1), std::span<const Share>(&y, 1)).front();
}
void Protocol::reserve_rows(FixedOperand& w, Eigen::Index rows) const {
  w.value.first.reserve(rows);
  if (w.value.second.cols() > 0) w.value.second.reserve(rows);
}

namespace {

std::size_t component_bytes(const Share& s) { return static_cast<std::size_t>(s.rows() * s.cols()) * sizeof(u64); }

Share row_block(const Share& s, Eigen::Index start, Eigen::Index count) {
  const auto block = [&](const RingMatrix& m) { return m.size() == 0 ? RingMatrix() : RingMatrix(m.middleRows(start, count)); };
  return Share{block(s.first), block(s.second)};
}

}  // namespace

std::vector<FixedOperand> Protocol::fix_bounded(std::vector<Share> w, std::size_t round_bytes) {
  std::vector<FixedOperand> out(w.size());
  std::vector<std::size_t> batch;
  std::size_t batch_bytes = 0;
  const auto fix_batch = [&] {
    if (batch.empty()) return;
    std::vector<Share> shares;
    for (std::size_t i : batch) shares.push_back(std::move(w[i]));
    std::vector<FixedOperand> fixed = fix(shares);
    for (std::size_t k = 0; k < batch.size(); ++k) out[batch[k]] = std::move(fixed[k]);
    batch.clear();
    batch_bytes = 0;
  };
  for (std::size_t i = 0; i < w.size(); ++i) {
    const std::size_t bytes = component_bytes(w[i]);
    if (bytes > round_bytes && w[i].rows() > 1) {
      fix_batch();
      const std::size_t row_bytes = static_cast<std::size_t>(w[i].cols()) * sizeof(u64);
      const Eigen::Index block = std::max<Eigen::Index>(1, static_cast<Eigen::Index>(round_bytes / row_bytes));
      out[i] = fix(row_block(w[i], 0, block));
      reserve_rows(out[i], w[i].rows());
      for (Eigen::Index start = block; start < w[i].rows(); start += block)
        append_rows(out[i], row_block(w[i], start, std::min(block, w[i].rows() - start)));
      w[i] = Share{};
      continue;
    }
    if (batch_bytes + bytes > round_bytes) fix_batch();
    batch.push_back(i);
    batch_bytes += bytes;
  }
  fix_batch();
  return out;
}

FixedOperand Protocol::fix(const Share& w) { return std::move(fix(std::span<const Share>(&w, 1)).front()); }
std::vector<Share> Protocol::append_rows_and_matmul_fixed_transposed(std::span<FixedOperand* const> grown,
                                                                   std::span<const Share> rows,
                                                                   std::span<const Share> x,
                                                                   std::span<const FixedOperand* const> w) {
  append_rows(grown, rows);
  return matmul_fixed_transposed(x, w);
}

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
