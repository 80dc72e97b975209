#include "protocols/two_party/dealer_correlations.hpp"

#include "net/stats.hpp"
#include "protocols/common/ring_kernels.hpp"

namespace protocols {

CorrelationStream CorrelationStream::for_party(int party, const mpc::Seed& seed_with_dealer, net::Mesh& mesh) {
  if (party == 0) return CorrelationStream(0, mpc::Prg(seed_with_dealer), std::nullopt, mesh);
  if (party == 1) return CorrelationStream(1, std::nullopt, mpc::Prg(seed_with_dealer), mesh);
  throw std::invalid_argument("correlation stream: party must be 0 or 1");
}

CorrelationStream CorrelationStream::for_dealer(const mpc::Seed& seed_p0, const mpc::Seed& seed_p1, net::Mesh& mesh) {
  return CorrelationStream(-1, mpc::Prg(seed_p0), mpc::Prg(seed_p1), mesh);
}

RingMatrix CorrelationStream::mask(Eigen::Index rows, Eigen::Index cols) {
  if (party_ == 0) return prg0_->random(rows, cols);
  if (party_ == 1) return prg1_->random(rows, cols);
  RingMatrix full = prg0_->random(rows, cols);
  full += prg1_->random(rows, cols);
  return full;
}

RingMatrix CorrelationStream::derived(Eigen::Index rows, Eigen::Index cols, const std::function<RingMatrix()>& full) {
  if (party_ == 0) return prg0_->random(rows, cols);
  if (party_ == 1) return next_correction(rows, cols);
  RingMatrix value = full();
  outgoing_.push_back(value - prg0_->random(rows, cols));
  return value;
}

RingMatrix CorrelationStream::next_correction(Eigen::Index rows, Eigen::Index cols) {
  if (!incoming_) {
    net::PhaseScope offline(mesh_->stats(), kOfflinePhase);
    incoming_.emplace(mesh_->recv(kDealerId), "dealer corrections");
  }
  return incoming_->next(rows, cols);
}

void CorrelationStream::finish_operation() {
  if (is_dealer() && !outgoing_.empty()) {
    const net::Bytes frame = pack(std::span<const RingMatrix>(outgoing_));
    outgoing_.clear();
    net::PhaseScope offline(mesh_->stats(), kOfflinePhase);
    mesh_->send(1, frame);
  }
  if (party_ == 1 && incoming_) {
    incoming_->expect_end();
    incoming_.reset();
  }
}

ElementwiseTriple elementwise_triple(CorrelationStream& s, Eigen::Index rows, Eigen::Index cols) {
  ElementwiseTriple t;
  t.a = s.mask(rows, cols);
  t.b = s.mask(rows, cols);
  t.c = s.derived(rows, cols, [&] { return RingMatrix(t.a.cwiseProduct(t.b)); });
  return t;
}

MatrixTriple matrix_triple(CorrelationStream& s, Eigen::Index m, Eigen::Index k, Eigen::Index n) {
  MatrixTriple t;
  t.a = s.mask(m, k);
  t.b = s.mask(k, n);
  t.c = s.derived(m, n, [&] { return ring_product(t.a, t.b); });
  return t;
}

FixedTriple fixed_triple(CorrelationStream& s, mpc::RingView b, Eigen::Index b_rows, Eigen::Index b_cols,
                         Eigen::Index m, bool transposed) {
  FixedTriple t;
  const Eigen::Index inner = transposed ? b_cols : b_rows;
  const Eigen::Index out_cols = transposed ? b_rows : b_cols;
  t.a = s.mask(m, inner);
  t.c = s.derived(m, out_cols, [&] { return transposed ? ring_product_transposed(t.a, b) : ring_product(t.a, b); });
  return t;
}

TruncationMaterial truncation_material(CorrelationStream& s, Eigen::Index rows, Eigen::Index cols, int bits) {
  TruncationMaterial t;
  t.r = s.mask(rows, cols);
  constexpr mpc::u64 kLow63 = (mpc::u64{1} << 63) - 1;
  t.r_low = s.derived(rows, cols, [&] { return RingMatrix(t.r.unaryExpr([bits](mpc::u64 v) { return (v & kLow63) >> bits; })); });
  t.r_msb = s.derived(rows, cols, [&] { return RingMatrix(t.r.unaryExpr([](mpc::u64 v) { return v >> 63; })); });
  return t;
}

}  // namespace protocols
