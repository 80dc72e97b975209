#include "protocols/two_party/two_party.hpp"

#include "protocols/common/exact_truncation.hpp"
#include "protocols/common/fixed_operand_state.hpp"
#include "protocols/common/matrix_codec.hpp"
#include "protocols/common/ring_kernels.hpp"
#include "protocols/common/row_groups.hpp"
#include "protocols/common/shape_checks.hpp"

namespace protocols {

namespace {

Share additive(RingMatrix value) { return Share{std::move(value), RingMatrix()}; }

// This party's share of a fixed operand, M_i = [i == 0] E + B_i (see TwoPartyFixedState).
RingMatrix fixed_share(const RingMatrix& opened, RingMatrix mask_share, bool p0) {
  if (p0) mask_share += opened;
  return mask_share;
}

TwoPartyFixedState& state_of(const FixedOperand& w, const char* op) {
  check_fixed_state(w, op);
  return *static_cast<TwoPartyFixedState*>(w.state.get());
}

}  // namespace

TwoPartyProtocol::TwoPartyProtocol(net::Mesh& mesh, mpc::FixedPoint fp, const mpc::Seed& seed_with_dealer,
                                   const mpc::Seed& seed_with_peer)
    : Protocol(mesh, fp),
      self_(mesh.self()),
      peer_(1 - mesh.self()),
      correlations_(CorrelationStream::for_party(mesh.self(), seed_with_dealer, mesh)),
      peer_prg_(seed_with_peer) {
  if (mesh.size() != 3 || self_ < 0 || self_ > 1)
    throw std::invalid_argument("2pc party: needs a 3-party mesh and mesh id 0 or 1");
}

std::vector<RingMatrix> TwoPartyProtocol::open(const std::vector<RingMatrix>& parts) {
  const net::Bytes frame = pack(std::span<const RingMatrix>(parts));
  const net::Outgoing out[] = {{peer_, frame}};
  const int from[] = {peer_};
  const auto received = mesh_->exchange(out, from);
  auto opened = unpack(received.front(), shapes_of(parts), "2pc open");
  for (std::size_t i = 0; i < parts.size(); ++i) opened[i] += parts[i];
  return opened;
}

Share TwoPartyProtocol::input(int owner, const RingMatrix* value, Eigen::Index rows, Eigen::Index cols) {
  if (owner != 0 && owner != 1) throw std::invalid_argument("2pc input: the owner must be P0 (0) or P1 (1)");
  // The non-owner's share is a mask both parties expand from their common seed: no traffic.
  RingMatrix mask = peer_prg_.random(rows, cols);
  if (self_ != owner) return additive(std::move(mask));
  check_input_value(value, rows, cols);
  return additive(*value - mask);
}

RingMatrix TwoPartyProtocol::reveal(const Share& x, int to) {
  if (to != kRevealToAll && to != 0 && to != 1)
    throw std::invalid_argument("2pc reveal: only P0 (0), P1 (1) or everyone can learn a value");
  const net::Bytes frame = pack(std::span<const RingMatrix>(&x.first, 1));
  std::vector<net::Outgoing> out;
  std::vector<int> from;
  if (to != self_) out.push_back({peer_, frame});
  if (to == self_ || to == kRevealToAll) from.push_back(peer_);
  const auto received = mesh_->exchange(out, from);
  if (from.empty()) return RingMatrix();
  return unpack_one(received.front(), shape_of(x.first), "2pc reveal") + x.first;
}

Share TwoPartyProtocol::add_public(const Share& x, const RingMatrix& c) const {
  check_same_shape(x.rows(), x.cols(), c.rows(), c.cols(), "add_public");
  return is_p0() ? additive(x.first + c) : x;
}

std::vector<Share> TwoPartyProtocol::mul(std::span<const Share> x, std::span<const Share> y) {
  check_counts(x.size(), y.size(), "mul");
  std::vector<ElementwiseTriple> triples;
  std::vector<RingMatrix> masked;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check_same_shape(x[i].rows(), x[i].cols(), y[i].rows(), y[i].cols(), "mul");
    triples.push_back(elementwise_triple(correlations_, x[i].rows(), x[i].cols()));
    masked.push_back(x[i].first - triples.back().a);
    masked.push_back(y[i].first - triples.back().b);
  }
  correlations_.finish_operation();
  const auto opened = open(masked);
  std::vector<Share> out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const RingMatrix& d = opened[2 * i];
    const RingMatrix& e = opened[2 * i + 1];
    const auto& t = triples[i];
    RingMatrix z = t.c + d.cwiseProduct(t.b) + t.a.cwiseProduct(e);
    if (is_p0()) z += d.cwiseProduct(e);
    out.push_back(additive(std::move(z)));
  }
  return out;
}

std::vector<Share> TwoPartyProtocol::matmul(std::span<const Share> x, std::span<const Share> y) {
  check_counts(x.size(), y.size(), "matmul");
  std::vector<MatrixTriple> triples;
  std::vector<RingMatrix> masked;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check_inner(x[i].cols(), y[i].rows(), "matmul");
    triples.push_back(matrix_triple(correlations_, x[i].rows(), x[i].cols(), y[i].cols()));
    masked.push_back(x[i].first - triples.back().a);
    masked.push_back(y[i].first - triples.back().b);
  }
  correlations_.finish_operation();
  const auto opened = open(masked);
  std::vector<Share> out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const RingMatrix& d = opened[2 * i];
    const RingMatrix& e = opened[2 * i + 1];
    const auto& t = triples[i];
    // (D + A)(E + B) = D.(E + B) + A.E with B, A, A.B shared; P0 carries the public D.E.
    const RingMatrix right = is_p0() ? RingMatrix(e + t.b) : t.b;
    RingMatrix z = ring_product(d, right);
    z += ring_product(t.a, e);
    z += t.c;
    out.push_back(additive(std::move(z)));
  }
  return out;
}

std::vector<FixedOperand> TwoPartyProtocol::fix(std::span<const Share> w) {
  std::vector<RingMatrix> mask_shares, masked;
  for (const Share& s : w) {
    mask_shares.push_back(correlations_.mask(s.rows(), s.cols()));
    masked.push_back(s.first - mask_shares.back());
  }
  correlations_.finish_operation();
  auto opened = open(masked);
  masked = {};
  std::vector<FixedOperand> out;
  for (std::size_t i = 0; i < w.size(); ++i) {
    auto state = std::make_shared<TwoPartyFixedState>();
    RingMatrix share = fixed_share(opened[i], std::move(mask_shares[i]), is_p0());
    state->opened = std::move(opened[i]);
    out.push_back(FixedOperand{additive(std::move(share)), std::move(state)});
  }
  return out;
}

void TwoPartyProtocol::append_rows(std::span<FixedOperand* const> w, std::span<const Share> rows) {
  fixed_round(w, rows, {}, {}, false, "append_rows");
}

void TwoPartyProtocol::reserve_rows(FixedOperand& w, Eigen::Index rows) const {
  Protocol::reserve_rows(w, rows);
  state_of(w, "reserve_rows").opened.reserve(rows);
}

namespace {
// Rows that `grown` and `rows` append to the operand w.
Eigen::Index rows_appended_to(const FixedOperand* w, std::span<FixedOperand* const> grown, std::span<const Share> rows) {
  Eigen::Index added = 0;
  for (std::size_t j = 0; j < grown.size(); ++j)
    if (grown[j] == w) added += rows[j].rows();
  return added;
}
}  // namespace

// One round: the appended rows open as W - B (new rows only) beside the products' x - A, and the
// products then read the grown operands (the dealer folded the new rows' masks into C as well).
std::vector<Share> TwoPartyProtocol::fixed_round(std::span<FixedOperand* const> grown, std::span<const Share> rows,
                                                 std::span<const Share> x, std::span<const FixedOperand* const> w,
                                                 bool transposed, const char* op) {
  check_counts(grown.size(), rows.size(), op);
  check_counts(x.size(), w.size(), op);
  std::vector<RingMatrix> mask_shares, masked;
  for (std::size_t i = 0; i < grown.size(); ++i) {
    state_of(*grown[i], op);
    check_columns(rows[i].cols(), grown[i]->value.cols(), op);
    mask_shares.push_back(correlations_.mask(rows[i].rows(), rows[i].cols()));
    masked.push_back(rows[i].first - mask_shares.back());
  }
  std::vector<FixedTriple> triples;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto& state = state_of(*w[i], op);
    const Eigen::Index w_rows = state.opened.rows() + rows_appended_to(w[i], grown, rows);
    check_inner(x[i].cols(), transposed ? state.opened.cols() : w_rows, op);
    // Parties never need the full mask: the dealer folds it into C.
    triples.push_back(fixed_triple(correlations_, state.opened, w_rows, state.opened.cols(), x[i].rows(), transposed));
    masked.push_back(x[i].first - triples.back().a);
  }
  correlations_.finish_operation();
  const auto opened = open(masked);
  for (std::size_t i = 0; i < grown.size(); ++i) {
    auto& state = state_of(*grown[i], op);
    append_below(state.opened, opened[i]);
    append_below(grown[i]->value.first, fixed_share(opened[i], std::move(mask_shares[i]), is_p0()));
  }
  std::vector<Share> out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto& state = state_of(*w[i], op);
    const auto& t = triples[i];
    const RingMatrix& d = opened[grown.size() + i];
    const RingRows& share = w[i]->value.first;
    RingMatrix z = transposed ? ring_product_transposed(d, share) : ring_product(d, share);
    z += transposed ? ring_product_transposed(t.a, state.opened) : ring_product(t.a, state.opened);
    z += t.c;
    out.push_back(additive(std::move(z)));
  }
  return out;
}

std::vector<Share> TwoPartyProtocol::matmul_fixed(std::span<const Share> x, std::span<const FixedOperand* const> w) {
  return fixed_round({}, {}, x, w, false, "matmul_fixed");
}

std::vector<Share> TwoPartyProtocol::matmul_fixed_transposed(std::span<const Share> x,
                                                             std::span<const FixedOperand* const> w) {
  return fixed_round({}, {}, x, w, true, "matmul_fixed_transposed");
}

std::vector<Share> TwoPartyProtocol::append_rows_and_matmul_fixed_transposed(std::span<FixedOperand* const> grown,
                                                                           std::span<const Share> rows,
                                                                           std::span<const Share> x,
                                                                           std::span<const FixedOperand* const> w) {
  return fixed_round(grown, rows, x, w, true, "append_rows_and_matmul_fixed_transposed");
}

FixedOperand TwoPartyProtocol::group_rows(const FixedOperand& w, Eigen::Index rows_per_group) const {
  check_rows_per_group(rows_per_group);
  const auto& state = state_of(w, "group_rows");
  auto grouped = std::make_shared<TwoPartyFixedState>();
  grouped->opened = grouped_rows(state.opened, rows_per_group);
  return FixedOperand{Share{grouped_rows(w.value.first, rows_per_group), RingMatrix()}, std::move(grouped)};
}

std::vector<Share> TwoPartyProtocol::truncate(std::span<const Share> x, int bits) {
  check_truncation_bits(bits);
  std::vector<TruncationMaterial> material;
  std::vector<RingMatrix> masked;
  for (const Share& s : x) {
    material.push_back(truncation_material(correlations_, s.rows(), s.cols(), bits));
    RingMatrix m = s.first + material.back().r;
    if (is_p0()) m.array() += kTruncationOffset;
    masked.push_back(std::move(m));
  }
  correlations_.finish_operation();
  const auto opened = open(masked);
  std::vector<Share> out;
  for (std::size_t i = 0; i < x.size(); ++i)
    out.push_back(additive(truncated_share(opened[i], material[i].r_low, material[i].r_msb, bits, is_p0())));
  return out;
}

}  // namespace protocols
