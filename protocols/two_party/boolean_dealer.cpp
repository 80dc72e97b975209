#include "protocols/two_party/boolean_dealer.hpp"

#include "protocols/common/bit_words.hpp"
#include "protocols/common/seed_agreement.hpp"
#include "protocols/common/matrix_codec.hpp"
#include "protocols/two_party/boolean_two_party.hpp"
#include "protocols/two_party/dealer_correlations.hpp"

#include <stdexcept>

namespace protocols {

namespace {
BoolShare shape_only(Eigen::Index rows, Eigen::Index cols) { return BoolShare{RingMatrix::Zero(rows, cols), RingMatrix()}; }
}  // namespace

BooleanDealer::BooleanDealer(Protocol& proto) : BooleanBackend(proto) {
  net::Mesh& mesh = proto.mesh();
  if (mesh.size() != 3 || mesh.self() != kDealerId) throw std::invalid_argument("boolean 2PC dealer: needs mesh id 2 of 3");
  DealerSeeds seeds = agree_dealer_seeds(mesh, "boolean 2PC");
  prg_p0_ = std::move(seeds.with_p0);
  prg_p1_ = std::move(seeds.with_p1);
}

// The public value enters through P0's share only.
BoolShare BooleanDealer::xor_public(const BoolShare& x, const RingMatrix&) const { return x; }

void BooleanDealer::send_corrections(std::span<const RingMatrix* const> corrections) {
  net::PhaseScope phase(proto_->mesh().stats(), kOfflinePhase);
  proto_->mesh().send(1, pack(corrections));
}

// Beaver triples over GF(2): P0's (a0, b0, c0) and P1's (a1, b1) come from the seeds; P1's
// c1 = (a0 ^ a1) & (b0 ^ b1) ^ c0 travels.
std::vector<BoolShare> BooleanDealer::and_(std::span<const BoolShare> x, std::span<const BoolShare> y) {
  check_and_operands(x, y);
  std::vector<RingMatrix> c1(x.size());
  std::vector<const RingMatrix*> frame;
  for (std::size_t t = 0; t < x.size(); ++t) {
    const auto r = x[t].rows(), c = x[t].cols();
    const RingMatrix a0 = prg_p0_->random(r, c), b0 = prg_p0_->random(r, c), c0 = prg_p0_->random(r, c);
    const RingMatrix a1 = prg_p1_->random(r, c), b1 = prg_p1_->random(r, c);
    c1[t] = bit_xor(bit_and(bit_xor(a0, a1), bit_xor(b0, b1)), c0);
    frame.push_back(&c1[t]);
  }
  send_corrections(frame);
  std::vector<BoolShare> out;
  for (const auto& s : x) out.push_back(shape_only(s.rows(), s.cols()));
  return out;
}

std::array<BoolShare, 2> BooleanDealer::from_arithmetic_shares(const Share& x, Summand) {
  return {shape_only(x.rows(), x.cols()), shape_only(x.rows(), x.cols())};
}

// A daBit: boolean r = r0 ^ r1 with P0's s0 from its seed and P1's s1 = r - s0 its correction.
Share BooleanDealer::bit_to_arithmetic(const BoolShare& bits) {
  const auto rows = bits.rows(), cols = bits.cols();
  const RingMatrix r0 = low_bit(prg_p0_->random(rows, cols));
  const RingMatrix s0 = prg_p0_->random(rows, cols);
  const RingMatrix r1 = low_bit(prg_p1_->random(rows, cols));
  const RingMatrix s1 = bit_xor(r0, r1) - s0;
  send_corrections(std::span<const RingMatrix* const>(std::array{&s1}));
  return Share{RingMatrix::Zero(rows, cols), RingMatrix()};
}

RingMatrix BooleanDealer::reveal(const BoolShare&, int to) {
  BooleanTwoParty::check_reveal_target(to);
  return RingMatrix();
}

}  // namespace protocols
