#include "protocols/two_party/dealer.hpp"

#include "protocols/common/exact_truncation.hpp"
#include "protocols/common/fixed_operand_state.hpp"
#include "protocols/common/row_groups.hpp"
#include "protocols/common/shape_checks.hpp"

namespace protocols {

namespace {

Share placeholder(Eigen::Index rows, Eigen::Index cols) { return Share{RingMatrix::Zero(rows, cols), RingMatrix()}; }

// The mask B of a fixed operand (the dealer keeps it in the operand's value, see DealerFixedState).
const RingRows& mask_of(const FixedOperand& w, const char* op) {
  check_fixed_state(w, op);
  return w.value.first;
}

}  // namespace

DealerProtocol::DealerProtocol(net::Mesh& mesh, mpc::FixedPoint fp, const mpc::Seed& seed_p0, const mpc::Seed& seed_p1)
    : Protocol(mesh, fp), correlations_(CorrelationStream::for_dealer(seed_p0, seed_p1, mesh)) {
  if (mesh.size() != 3 || mesh.self() != kDealerId) throw std::invalid_argument("2pc dealer: needs mesh id 2 of 3");
}

Share DealerProtocol::input(int owner, const RingMatrix* value, Eigen::Index rows, Eigen::Index cols) {
  if (owner != 0 && owner != 1) throw std::invalid_argument("2pc input: the owner must be P0 (0) or P1 (1)");
  return placeholder(rows, cols);
}

RingMatrix DealerProtocol::reveal(const Share& x, int to) {
  if (to != kRevealToAll && to != 0 && to != 1)
    throw std::invalid_argument("2pc reveal: only P0 (0), P1 (1) or everyone can learn a value");
  return RingMatrix();
}

Share DealerProtocol::add_public(const Share& x, const RingMatrix& c) const {
  check_same_shape(x.rows(), x.cols(), c.rows(), c.cols(), "add_public");
  return x;
}

std::vector<Share> DealerProtocol::mul(std::span<const Share> x, std::span<const Share> y) {
  check_counts(x.size(), y.size(), "mul");
  std::vector<Share> out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check_same_shape(x[i].rows(), x[i].cols(), y[i].rows(), y[i].cols(), "mul");
    elementwise_triple(correlations_, x[i].rows(), x[i].cols());
    out.push_back(placeholder(x[i].rows(), x[i].cols()));
  }
  correlations_.finish_operation();
  return out;
}

std::vector<Share> DealerProtocol::matmul(std::span<const Share> x, std::span<const Share> y) {
  check_counts(x.size(), y.size(), "matmul");
  std::vector<Share> out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check_inner(x[i].cols(), y[i].rows(), "matmul");
    matrix_triple(correlations_, x[i].rows(), x[i].cols(), y[i].cols());
    out.push_back(placeholder(x[i].rows(), y[i].cols()));
  }
  correlations_.finish_operation();
  return out;
}

std::vector<FixedOperand> DealerProtocol::fix(std::span<const Share> w) {
  std::vector<FixedOperand> out;
  for (const Share& s : w) {
    out.push_back(FixedOperand{Share{correlations_.mask(s.rows(), s.cols()), RingMatrix()},
                               std::make_shared<DealerFixedState>()});
  }
  correlations_.finish_operation();
  return out;
}

void DealerProtocol::append_rows(std::span<FixedOperand* const> w, std::span<const Share> rows) {
  fixed_round(w, rows, {}, {}, false, "append_rows");
}

// The parties' fixed_round: the new rows' masks first, then the products' triples, whose C covers
// the grown operands.
std::vector<Share> DealerProtocol::fixed_round(std::span<FixedOperand* const> grown, std::span<const Share> rows,
                                               std::span<const Share> x, std::span<const FixedOperand* const> w,
                                               bool transposed, const char* op) {
  check_counts(grown.size(), rows.size(), op);
  check_counts(x.size(), w.size(), op);
  for (std::size_t i = 0; i < grown.size(); ++i) {
    check_columns(rows[i].cols(), mask_of(*grown[i], op).cols(), op);
    append_below(grown[i]->value.first, correlations_.mask(rows[i].rows(), rows[i].cols()));
  }
  std::vector<Share> out;
  for (std::size_t i = 0; i < x.size(); ++i) {
    const auto& mask = mask_of(*w[i], op);
    check_inner(x[i].cols(), transposed ? mask.cols() : mask.rows(), op);
    fixed_triple(correlations_, mask, mask.rows(), mask.cols(), x[i].rows(), transposed);
    out.push_back(placeholder(x[i].rows(), transposed ? mask.rows() : mask.cols()));
  }
  correlations_.finish_operation();
  return out;
}

std::vector<Share> DealerProtocol::matmul_fixed(std::span<const Share> x, std::span<const FixedOperand* const> w) {
  return fixed_round({}, {}, x, w, false, "matmul_fixed");
}

std::vector<Share> DealerProtocol::matmul_fixed_transposed(std::span<const Share> x,
                                                           std::span<const FixedOperand* const> w) {
  return fixed_round({}, {}, x, w, true, "matmul_fixed_transposed");
}

std::vector<Share> DealerProtocol::append_rows_and_matmul_fixed_transposed(std::span<FixedOperand* const> grown,
                                                                         std::span<const Share> rows,
                                                                         std::span<const Share> x,
                                                                         std::span<const FixedOperand* const> w) {
  return fixed_round(grown, rows, x, w, true, "append_rows_and_matmul_fixed_transposed");
}

FixedOperand DealerProtocol::group_rows(const FixedOperand& w, Eigen::Index rows_per_group) const {
  check_rows_per_group(rows_per_group);
  return FixedOperand{Share{grouped_rows(mask_of(w, "group_rows"), rows_per_group), RingMatrix()},
                      std::make_shared<DealerFixedState>()};
}

std::vector<Share> DealerProtocol::truncate(std::span<const Share> x, int bits) {
  check_truncation_bits(bits);
  std::vector<Share> out;
  for (const Share& s : x) {
    truncation_material(correlations_, s.rows(), s.cols(), bits);
    out.push_back(placeholder(s.rows(), s.cols()));
  }
  correlations_.finish_operation();
  return out;
}

}  // namespace protocols
