#include "protocols/factory.hpp"

#include "mpc/prg.hpp"
#include "net/stats.hpp"
#include "protocols/common/seed_agreement.hpp"
#include "protocols/three_party/three_party.hpp"
#include "protocols/two_party/dealer.hpp"
#include "protocols/two_party/two_party.hpp"

#include <stdexcept>
#include <string>

namespace protocols {

namespace {

constexpr int kParties = 3;

constexpr const char* kSession = "session";

mpc::Seed seed_from(const net::Bytes& frame, int peer) { return seed_from_frame(frame, peer, kSession); }

// Dealer -> P0 and dealer -> P1 seeds, and a P0 -> P1 seed for input masks; one round.
std::unique_ptr<Protocol> make_two_party(net::Mesh& mesh, mpc::FixedPoint fp) {
  net::PhaseScope setup(mesh.stats(), "setup");
  const int self = mesh.self();
  if (self == kDealerId) {
    const mpc::Seed with_p0 = mpc::random_seed(), with_p1 = mpc::random_seed();
    const net::Outgoing out[] = {{0, with_p0}, {1, with_p1}};
    mesh.exchange(out, {});
    return std::make_unique<DealerProtocol>(mesh, fp, with_p0, with_p1);
  }
  if (self == 0) {
    const mpc::Seed with_p1 = mpc::random_seed();
    const net::Outgoing out[] = {{1, with_p1}};
    const int from[] = {kDealerId};
    const auto received = mesh.exchange(out, from);
    return std::make_unique<TwoPartyProtocol>(mesh, fp, seed_from(received[0], kDealerId), with_p1);
  }
  const int from[] = {0, kDealerId};
  const auto received = mesh.exchange({}, from);
  return std::make_unique<TwoPartyProtocol>(mesh, fp, seed_from(received[1], kDealerId), seed_from(received[0], 0));
}

std::unique_ptr<Protocol> make_three_party(net::Mesh& mesh, mpc::FixedPoint fp) {
  net::PhaseScope setup(mesh.stats(), "setup");
  const ReplicatedSeeds seeds = agree_replicated_seeds(mesh, kSession);
  return std::make_unique<ReplicatedProtocol>(mesh, fp, seeds.own, seeds.next);
}

}  // namespace

std::unique_ptr<Protocol> make_protocol(Backend backend, net::Mesh& mesh, mpc::FixedPoint fp,
                                        const std::string& session_config) {
  if (mesh.size() != kParties)
    throw std::invalid_argument("backend " + to_string(backend) + " needs a 3-party mesh" +
                                (backend == Backend::TwoPartyDealer ? " (P0, P1, dealer)" : "") + ", got " +
                                std::to_string(mesh.size()) + " parties");
  run_session_handshake(mesh, SessionDescription{to_string(backend), fp.frac_bits(), mesh.size(), session_config});
  return backend == Backend::TwoPartyDealer ? make_two_party(mesh, fp) : make_three_party(mesh, fp);
}

}  // namespace protocols
