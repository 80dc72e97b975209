// The 2PC backend as run by P0 (model owner, mesh id 0) and P1 (user, mesh id 1), semi-honest, with
// a dealer (mesh id 2, protocols/two_party/dealer.hpp) that supplies correlated randomness.
//
// Shares are additive over Z_2^64. Online traffic (P0 <-> P1) stays in the caller's phase; the
// dealer's corrections arrive in the "offline" phase. Costs per operation (n = elements opened):
//   input               0 rounds: the owner's share is x - r, r expanded from the P0-P1 seed
//   reveal              1 round
//   mul / matmul        1 round, each party sends x - a and y - b
//   fix / append_rows   1 round, each party sends its share of W - B for the new rows only
//                       (an append can share the round of a product with the grown operand)
//   matmul_fixed[_T]    1 round, each party sends x - A only (never anything of the size of W)
//   truncate            1 round, each party sends 8 bytes per element; exact up to one ulp
#pragma once

#include "mpc/prg.hpp"
#include "protocols/protocol.hpp"
#include "protocols/two_party/dealer_correlations.hpp"

namespace protocols {

class TwoPartyProtocol final : public Protocol {
 public:
  TwoPartyProtocol(net::Mesh& mesh, mpc::FixedPoint fp, const mpc::Seed& seed_with_dealer,
                   const mpc::Seed& seed_with_peer);

  Backend backend() const override { return Backend::TwoPartyDealer; }
  Role role() const override { return self_ == 0 ? Role::P0 : Role::P1; }

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
  void reserve_rows(FixedOperand& w, Eigen::Index rows) const override;
  std::vector<Share> matmul_fixed(std::span<const Share> x, std::span<const FixedOperand* const> w) override;
  std::vector<Share> matmul_fixed_transposed(std::span<const Share> x,
                                             std::span<const FixedOperand* const> w) override;
  std::vector<Share> append_rows_and_matmul_fixed_transposed(std::span<FixedOperand* const> grown,
                                                             std::span<const Share> rows, std::span<const Share> x,
                                                             std::span<const FixedOperand* const> w) override;
  FixedOperand group_rows(const FixedOperand& w, Eigen::Index rows_per_group) const override;
  std::vector<Share> truncate(std::span<const Share> x, int bits) override;

 private:
  bool is_p0() const { return self_ == 0; }
  // One round with the peer: sends this party's parts, returns part + peer's part for each.
  std::vector<RingMatrix> open(const std::vector<RingMatrix>& parts);
  // Appends rows to `grown` and multiplies x by w (transposed or not) in one round; either list may
  // be empty.
  std::vector<Share> fixed_round(std::span<FixedOperand* const> grown, std::span<const Share> rows,
                                 std::span<const Share> x, std::span<const FixedOperand* const> w, bool transposed,
                                 const char* op);

  int self_;
  int peer_;
  CorrelationStream correlations_;
  mpc::Prg peer_prg_;  // shared with the other party: input masks
};

}  // namespace protocols
