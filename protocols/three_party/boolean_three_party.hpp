// Replicated boolean sharing for 3PC (ABY3 style): party i holds (b_i, b_{i+1}) of
// b = b_0 ^ b_1 ^ b_2. Pairwise seeds (party i knows k_i and k_{i+1}) give XOR zero-sharings without
// communication; an AND is local cross terms plus a zero-sharing, then one resharing round.
#pragma once

#include "mpc/prg.hpp"
#include "protocols/boolean.hpp"

#include <optional>

namespace protocols {

class BooleanThreeParty final : public BooleanBackend {
 public:
  explicit BooleanThreeParty(Protocol& proto);

  BoolShare xor_public(const BoolShare& x, const RingMatrix& c) const override;
  std::vector<BoolShare> and_(std::span<const BoolShare> x, std::span<const BoolShare> y) override;
  using BooleanBackend::and_;
  std::array<BoolShare, 2> from_arithmetic_shares(const Share& x, Summand second) override;
  Share bit_to_arithmetic(const BoolShare& bits) override;
  RingMatrix reveal(const BoolShare& x, int to) override;

 private:
  int next() const { return (self_ + 1) % 3; }
  int previous() const { return (self_ + 2) % 3; }
  // This party's part alpha_i of a fresh sharing of zero: alpha_0 ^ alpha_1 ^ alpha_2 = 0.
  RingMatrix zero_share(Eigen::Index rows, Eigen::Index cols);
  // From a 3-out-of-3 XOR sharing (z_i at party i) to replicated (z_i, z_{i+1}): one round.
  std::vector<BoolShare> reshare(std::vector<RingMatrix> parts, const char* what);
  // The arithmetic sharing of component j of a replicated boolean share (bit 0 only), known to
  // two parties, so it needs no communication.
  Share component_as_arithmetic(const BoolShare& bits, int j) const;

  int self_;
  std::optional<mpc::Prg> prg_own_;   // k_i, also held by party i-1
  std::optional<mpc::Prg> prg_next_;  // k_{i+1}, also held by party i+1
};

}  // namespace protocols
