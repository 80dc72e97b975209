#include "protocols/two_party/boolean_two_party.hpp"

#include "protocols/common/bit_words.hpp"
#include "protocols/common/seed_agreement.hpp"
#include "protocols/common/matrix_codec.hpp"
#include "protocols/two_party/dealer_correlations.hpp"

#include <stdexcept>
#include <string>

namespace protocols {

BooleanTwoParty::BooleanTwoParty(Protocol& proto)
    : BooleanBackend(proto), self_(proto.mesh().self()), peer_(1 - proto.mesh().self()) {
  net::Mesh& mesh = proto.mesh();
  if (mesh.size() != 3 || self_ < 0 || self_ > 1) throw std::invalid_argument("boolean 2PC needs a mesh of P0, P1 and the dealer");
  DealerSeeds seeds = agree_dealer_seeds(mesh, "boolean 2PC");
  prg_ = std::move(self_ == 0 ? seeds.with_p0 : seeds.with_p1);
}

void BooleanTwoParty::check_reveal_target(int to) {
  if (to != kRevealToAll && to != 0 && to != 1) throw std::invalid_argument("boolean reveal: 2PC reveals to P0, P1 or both");
}

BoolShare BooleanTwoParty::zeros(Eigen::Index rows, Eigen::Index cols) const {
  return BoolShare{RingMatrix::Zero(rows, cols), RingMatrix()};
}

BoolShare BooleanTwoParty::xor_public(const BoolShare& x, const RingMatrix& c) const {
  if (self_ != 0) return x;  // the public value enters through P0's share only
  return BoolShare{bit_xor(x.first, c), RingMatrix()};
}

void BooleanTwoParty::receive_corrections(std::span<RingMatrix* const> corrections, const char* what) {
  net::PhaseScope phase(proto_->mesh().stats(), kOfflinePhase);
  unpack_into(proto_->mesh().recv(kDealerId), corrections, what);
}

std::vector<BoolShare> BooleanTwoParty::and_(std::span<const BoolShare> x, std::span<const BoolShare> y) {
  check_and_operands(x, y);
  // Beaver triples over GF(2): (a, b, c = a & b); P1's c arrives from the dealer.
  const std::size_t n = x.size();
  std::vector<RingMatrix> a(n), b(n), c(n), masked(2 * n);
  std::vector<RingMatrix*> corrections;
  for (std::size_t t = 0; t < n; ++t) {
    const auto r = x[t].rows(), cl = x[t].cols();
    a[t] = prg_->random(r, cl);
    b[t] = prg_->random(r, cl);
    if (self_ == 0) {
      c[t] = prg_->random(r, cl);
    } else {
      c[t].resize(r, cl);
      corrections.push_back(&c[t]);
    }
  }
  if (self_ == 1) receive_corrections(corrections, "boolean AND triples");

  for (std::size_t t = 0; t < n; ++t) {
    masked[t] = bit_xor(x[t].first, a[t]);
    masked[n + t] = bit_xor(y[t].first, b[t]);
  }
  const net::Bytes payload = pack(std::span<const RingMatrix>(masked));
  const net::Outgoing out[] = {{peer_, payload}};
  const int from[] = {peer_};
  const auto frames = proto_->mesh().exchange(out, from);
  const std::vector<RingMatrix> theirs = unpack(frames.front(), shapes_of(masked), "boolean AND");

  std::vector<BoolShare> result;
  for (std::size_t t = 0; t < n; ++t) {
    const RingMatrix e = bit_xor(masked[t], theirs[t]);
    const RingMatrix f = bit_xor(masked[n + t], theirs[n + t]);
    RingMatrix z = bit_xor(bit_xor(c[t], bit_and(e, b[t])), bit_and(f, a[t]));
    if (self_ == 0) z = bit_xor(z, bit_and(e, f));
    result.push_back(BoolShare{std::move(z), RingMatrix()});
  }
  return result;
}

std::array<BoolShare, 2> BooleanTwoParty::from_arithmetic_shares(const Share& x, Summand second) {
  const auto r = x.rows(), c = x.cols();
  std::array<BoolShare, 2> out{zeros(r, c), zeros(r, c)};
  if (self_ == 0) out[0].first = x.first;
  if (self_ == 1) out[1].first = second == Summand::Plus ? RingMatrix(x.first) : RingMatrix(RingMatrix::Zero(r, c) - x.first);
  return out;
}

RingMatrix BooleanTwoParty::open_between_parties(const RingMatrix& mine, const char* what) {
  const net::Bytes payload = pack(std::span<const RingMatrix>(&mine, 1));
  const net::Outgoing out[] = {{peer_, payload}};
  const int from[] = {peer_};
  const auto frames = proto_->mesh().exchange(out, from);
  return bit_xor(mine, unpack_one(frames.front(), shape_of(mine), what));
}

Share BooleanTwoParty::bit_to_arithmetic(const BoolShare& bits) {
  // A daBit r (boolean r0 ^ r1, arithmetic s0 + s1) masks the bit: open c = b ^ r, then
  // b = c + r - 2cr is linear in the arithmetic shares of r.
  const auto rows = bits.rows(), cols = bits.cols();
  const RingMatrix r = low_bit(prg_->random(rows, cols));
  RingMatrix s(rows, cols);
  if (self_ == 0) {
    s = prg_->random(rows, cols);
  } else {
    receive_corrections(std::span<RingMatrix* const>(std::array{&s}), "daBits");
  }
  const RingMatrix mine = pack_low_bits(bit_xor(low_bit(bits.first), r));
  const RingMatrix opened = unpack_low_bits(open_between_parties(mine, "daBit opening"), rows, cols);
  RingMatrix out = s - 2 * opened.cwiseProduct(s);
  if (self_ == 0) out += opened;
  return Share{std::move(out), RingMatrix()};
}

RingMatrix BooleanTwoParty::reveal(const BoolShare& x, int to) {
  check_reveal_target(to);
  const bool i_receive = to == kRevealToAll || to == self_;
  const bool i_send = to == kRevealToAll || to == peer_;
  const net::Bytes payload = pack(std::span<const RingMatrix>(&x.first, 1));
  std::vector<net::Outgoing> out;
  std::vector<int> from;
  if (i_send) out.push_back({peer_, payload});
  if (i_receive) from.push_back(peer_);
  const auto frames = proto_->mesh().exchange(out, from);
  if (!i_receive) return RingMatrix();
  return bit_xor(x.first, unpack_one(frames.front(), shape_of(x.first), "boolean reveal"));
}

}  // namespace protocols
