// The 3PC backend: 2-out-of-3 replicated sharing over Z_2^64 (ABY3 style), semi-honest, honest
// majority. x = x_0 + x_1 + x_2 and party i holds (x_i, x_{i+1}) as Share{first, second}.
//
// Pairwise seeds (PRSS): party i holds keys k_i and k_{i+1}, so each key is known to exactly two
// parties and yields, without communication, random components and zero sharings
// alpha_i = F(k_i) - F(k_{i+1}). Costs per operation (one frame per peer per round, whatever the
// number or size of tensors):
//   input            1 round, the owner sends one component to one party
//   reveal           1 round, each party sends its second component to the previous party
//   mul / matmul     1 round: local cross terms + zero sharing, then each party sends its new
//                    component to the previous party (bytes = output size)
//   fix / append     0 rounds: replicated products never open their operands, so a fixed operand
//                    is just the share; matmul_fixed[_transposed] cost what matmul costs
//   truncate         2 rounds, exact up to one ulp for |x| < 2^62. P2 acts as a helper for the pair
//                    (P0, P1): round 1 opens x + 2^62 + r between P0 and P1 (r known to P2 only)
//                    while P2 sends P1 its correction shares of r's low bits and top bit; round 2
//                    turns the resulting 2-out-of-2 sharing into a replicated one. A one-round
//                    variant (ABY3's local truncation) fails with probability about 2^(l+2-64) per
//                    element for |x| < 2^l, i.e. several wrong activations per LLM forward pass,
//                    and an exact one-round protocol would need the open and the resharing to
//                    happen together, which the choice bit (the top bit of the opened value) forbids.
#pragma once

#include "mpc/prg.hpp"
#include "protocols/protocol.hpp"

namespace protocols {

class ReplicatedProtocol final : public Protocol {
 public:
  // `own_key` is k_self, `next_key` is k_{self+1} (received from the next party at set-up).
  ReplicatedProtocol(net::Mesh& mesh, mpc::FixedPoint fp, const mpc::Seed& own_key, const mpc::Seed& next_key);

  Backend backend() const override { return Backend::ThreePartyReplicated; }
  Role role() const override;

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
  FixedOperand group_rows(const FixedOperand& w, Eigen::Index rows_per_group) const override;
  std::vector<Share> truncate(std::span<const Share> x, int bits) override;

 private:
  RingMatrix zero_sharing(Eigen::Index rows, Eigen::Index cols);
  // Each party sends its new component z_i to the previous party and receives z_{i+1}: one round.
  std::vector<Share> reshare(std::vector<RingMatrix> components);
  // `y` is a Share or a GrowingShare (a fixed operand, read in place).
  template <typename Y, typename Product>
  RingMatrix cross_terms(const Share& x, const Y& y, Product product);
  std::vector<Share> truncate_pair(std::span<const Share> x, int bits);
  std::vector<Share> truncate_helper(std::span<const Share> x, int bits);

  int self_, next_, prev_;
  mpc::Prg own_;   // k_self, shared with the previous party
  mpc::Prg next_prg_;  // k_{self+1}, shared with the next party
};

}  // namespace protocols
