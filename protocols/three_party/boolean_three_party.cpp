#include "protocols/three_party/boolean_three_party.hpp"

#include "protocols/common/bit_words.hpp"
#include "protocols/common/matrix_codec.hpp"
#include "protocols/common/seed_agreement.hpp"

#include <stdexcept>

namespace protocols {

BooleanThreeParty::BooleanThreeParty(Protocol& proto) : BooleanBackend(proto), self_(proto.mesh().self()) {
  net::Mesh& mesh = proto.mesh();
  if (mesh.size() != 3 || self_ < 0 || self_ > 2) throw std::invalid_argument("boolean 3PC needs a mesh of three parties");
  net::PhaseScope phase(mesh.stats(), "setup");
  const ReplicatedSeeds seeds = agree_replicated_seeds(mesh, "boolean 3PC");
  prg_own_.emplace(seeds.own);
  prg_next_.emplace(seeds.next);
}

RingMatrix BooleanThreeParty::zero_share(Eigen::Index rows, Eigen::Index cols) {
  return bit_xor(prg_own_->random(rows, cols), prg_next_->random(rows, cols));
}

BoolShare BooleanThreeParty::xor_public(const BoolShare& x, const RingMatrix& c) const {
  // The public value becomes component 0, held by party 0 (first) and party 2 (second).
  BoolShare out = x;
  if (self_ == 0) out.first = bit_xor(x.first, c);
  if (self_ == 2) out.second = bit_xor(x.second, c);
  return out;
}

std::vector<BoolShare> BooleanThreeParty::reshare(std::vector<RingMatrix> parts, const char* what) {
  const net::Bytes payload = pack(std::span<const RingMatrix>(parts));
  const net::Outgoing out[] = {{previous(), payload}};
  const int from[] = {next()};
  const auto frames = proto_->mesh().exchange(out, from);
  std::vector<RingMatrix> received = unpack(frames.front(), shapes_of(parts), what);
  std::vector<BoolShare> result;
  for (std::size_t t = 0; t < parts.size(); ++t) result.push_back(BoolShare{std::move(parts[t]), std::move(received[t])});
  return result;
}

std::vector<BoolShare> BooleanThreeParty::and_(std::span<const BoolShare> x, std::span<const BoolShare> y) {
  check_and_operands(x, y);
  std::vector<RingMatrix> parts;
  for (std::size_t t = 0; t < x.size(); ++t) {
    RingMatrix z = bit_xor(bit_and(x[t].first, y[t].first), bit_and(x[t].first, y[t].second));
    z = bit_xor(z, bit_and(x[t].second, y[t].first));
    parts.push_back(bit_xor(z, zero_share(x[t].rows(), x[t].cols())));
  }
  return reshare(std::move(parts), "boolean AND");
}

std::array<BoolShare, 2> BooleanThreeParty::from_arithmetic_shares(const Share& x, Summand second) {
  // Summand a = x_0 + x_1, known to party 0 alone, is reshared (one round); summand b = x_2 is
  // known to parties 1 and 2 and becomes component 2 of a replicated sharing for free.
  const auto r = x.rows(), c = x.cols();
  RingMatrix part = zero_share(r, c);
  if (self_ == 0) part = bit_xor(part, RingMatrix(x.first + x.second));
  BoolShare a = std::move(reshare({std::move(part)}, "A2B resharing").front());

  const RingMatrix zero = RingMatrix::Zero(r, c);
  auto signed_x2 = [&](const RingMatrix& v) -> RingMatrix { return second == Summand::Plus ? v : RingMatrix(zero - v); };
  BoolShare b{zero, zero};
  if (self_ == 1) b.second = signed_x2(x.second);
  if (self_ == 2) b.first = signed_x2(x.first);
  return {std::move(a), std::move(b)};
}

Share BooleanThreeParty::component_as_arithmetic(const BoolShare& bits, int j) const {
  const auto r = bits.rows(), c = bits.cols();
  Share out{RingMatrix::Zero(r, c), RingMatrix::Zero(r, c)};
  if (self_ == j) out.first = low_bit(bits.first);
  if (next() == j) out.second = low_bit(bits.second);
  return out;
}

Share BooleanThreeParty::bit_to_arithmetic(const BoolShare& bits) {
  // b = b_0 ^ b_1 ^ b_2 with each b_j arithmetically shared for free; u ^ v = u + v - 2uv.
  Protocol& p = *proto_;
  const Share b0 = component_as_arithmetic(bits, 0), b1 = component_as_arithmetic(bits, 1);
  const Share b2 = component_as_arithmetic(bits, 2);
  const Share t = p.sub(p.add(b0, b1), p.scale(p.mul(b0, b1), 2));
  return p.sub(p.add(t, b2), p.scale(p.mul(t, b2), 2));
}

RingMatrix BooleanThreeParty::reveal(const BoolShare& x, int to) {
  if (to != kRevealToAll && (to < 0 || to > 2)) throw std::invalid_argument("boolean reveal: no such party");
  // Party i lacks b_{i+2}, which party i+1 holds as its second component.
  const bool i_send = to == kRevealToAll || to == previous();
  const bool i_receive = to == kRevealToAll || to == self_;
  const net::Bytes payload = pack(std::span<const RingMatrix>(&x.second, 1));
  std::vector<net::Outgoing> out;
  std::vector<int> from;
  if (i_send) out.push_back({previous(), payload});
  if (i_receive) from.push_back(next());
  const auto frames = proto_->mesh().exchange(out, from);
  if (!i_receive) return RingMatrix();
  return bit_xor(bit_xor(x.first, x.second), unpack_one(frames.front(), shape_of(x.second), "boolean reveal"));
}

}  // namespace protocols
