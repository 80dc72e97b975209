// Boolean sharing for 2PC with a dealer, as run by P0 (id 0) and P1 (id 1), who hold XOR shares;
// the dealer (id 2) runs the same program as BooleanDealer (two_party/boolean_dealer.hpp) and
// produces AND triples and daBits. P0's part of every correlation and P1's random parts are
// expanded from seeds the dealer sends at construction; only P1's corrections travel, one frame
// per operation, dealer -> P1, in the "offline" phase.
#pragma once

#include "mpc/prg.hpp"
#include "protocols/boolean.hpp"

#include <optional>

namespace protocols {

class BooleanTwoParty final : public BooleanBackend {
 public:
  explicit BooleanTwoParty(Protocol& proto);

  BoolShare xor_public(const BoolShare& x, const RingMatrix& c) const override;
  std::vector<BoolShare> and_(std::span<const BoolShare> x, std::span<const BoolShare> y) override;
  using BooleanBackend::and_;
  std::array<BoolShare, 2> from_arithmetic_shares(const Share& x, Summand second) override;
  Share bit_to_arithmetic(const BoolShare& bits) override;
  RingMatrix reveal(const BoolShare& x, int to) override;

  // Throws unless `to` is P0, P1 or kRevealToAll (the dealer never learns a value).
  static void check_reveal_target(int to);

 private:
  BoolShare zeros(Eigen::Index rows, Eigen::Index cols) const;
  void receive_corrections(std::span<RingMatrix* const> corrections, const char* what);
  RingMatrix open_between_parties(const RingMatrix& mine, const char* what);

  int self_;
  int peer_;
  std::optional<mpc::Prg> prg_;  // stream shared with the dealer
};

}  // namespace protocols
