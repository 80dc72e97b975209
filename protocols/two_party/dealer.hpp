// The dealer of the 2PC backend (mesh id 2). It runs the same program as P0 and P1 (control flow
// above the protocol interface depends only on public shapes) and, at every operation, produces the
// correlated randomness that operation consumes, in the same order: the full values come from the
// two seeds it shares with P0 and P1, and P1's corrections go out as one frame per operation in the
// "offline" phase. It never receives anything after set-up, so it never sees an input, a share or
// an opened value. Its shares are zero matrices that only carry shapes; reveal returns an empty matrix.
#pragma once

#include "mpc/prg.hpp"
#include "protocols/protocol.hpp"
#include "protocols/two_party/dealer_correlations.hpp"

namespace protocols {

class DealerProtocol final : public Protocol {
 public:
  DealerProtocol(net::Mesh& mesh, mpc::FixedPoint fp, const mpc::Seed& seed_p0, const mpc::Seed& seed_p1);

  Backend backend() const override { return Backend::TwoPartyDealer; }
  Role role() const override { return Role::Dealer; }

  using Protocol::append_rows;
  using Protocol::fix;
  using Protocol::matmul;
  using Protocol::matmul_fixed;
  using Protocol::matmul_fixed_transposed;
  using Protocol::mul;
  using Protocol::truncate;

  Share input(int owner, const RingMatrix* value, Eigen::Index rows, Eigen::Index cols) override;
  RingMatrix reveal(const Share& x, int to) override;
  Share add_public(const Share& x, const RingMatrix& c) const override;
  std::vector<Share> mul(std::span<const Share> x, std::span<const Share> y) override;
  std::vector<Share> matmul(std::span<const Share> x, std::span<const Share> y) override;
  std::vector<FixedOperand> fix(std::span<const Share> w) override;
  void append_rows(std::span<FixedOperand* const> w, std::span<const Share> rows) override;
  std::vector<Share> matmul_fixed(std::span<const Share> x, std::span<const FixedOperand* const> w) override;
  std::vector<Share> matmul_fixed_transposed(std::span<const Share> x,
                                             std::span<const FixedOperand* const> w) override;
  std::vector<Share> append_rows_and_matmul_fixed_transposed(std::span<FixedOperand* const> grown,
                                                             std::span<const Share> rows, std::span<const Share> x,
                                                             std::span<const FixedOperand* const> w) override;
  FixedOperand group_rows(const FixedOperand& w, Eigen::Index rows_per_group) const override;
  std::vector<Share> truncate(std::span<const Share> x, int bits) override;

 private:
  std::vector<Share> fixed_round(std::span<FixedOperand* const> grown, std::span<const Share> rows,
                                 std::span<const Share> x, std::span<const FixedOperand* const> w, bool transposed,
                                 const char* op);

  CorrelationStream correlations_;
};

}  // namespace protocols
