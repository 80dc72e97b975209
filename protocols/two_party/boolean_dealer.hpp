// The dealer's side of 2PC boolean sharing (mesh id 2), in the style of the arithmetic dealer
// (two_party/dealer.hpp): it runs the parties' program on shape-only shares and, at every AND and
// daBit, expands from the seeds it shares with P0 and P1 the very material the parties expand, in
// the same order, and sends P1's corrections, one frame per operation, dealer -> P1 in the
// "offline" phase. It never receives anything after set-up; reveal returns an empty matrix.
#pragma once

#include "mpc/prg.hpp"
#include "protocols/boolean.hpp"

#include <optional>

namespace protocols {

class BooleanDealer final : public BooleanBackend {
 public:
  explicit BooleanDealer(Protocol& proto);

  BoolShare xor_public(const BoolShare& x, const RingMatrix& c) const override;
  std::vector<BoolShare> and_(std::span<const BoolShare> x, std::span<const BoolShare> y) override;
  using BooleanBackend::and_;
  std::array<BoolShare, 2> from_arithmetic_shares(const Share& x, Summand second) override;
  Share bit_to_arithmetic(const BoolShare& bits) override;
  RingMatrix reveal(const BoolShare& x, int to) override;

 private:
  void send_corrections(std::span<const RingMatrix* const> corrections);

  std::optional<mpc::Prg> prg_p0_;  // stream P0 shares with the dealer
  std::optional<mpc::Prg> prg_p1_;  // stream P1 shares with the dealer
};

}  // namespace protocols
