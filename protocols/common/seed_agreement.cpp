#include "protocols/common/seed_agreement.hpp"

#include "protocols/protocol.hpp"

#include <algorithm>

namespace protocols {

namespace {
constexpr int kDealer = 2;
constexpr int kParties = 3;
}  // namespace

mpc::Seed seed_from_frame(const net::Bytes& frame, int peer, const std::string& what) {
  mpc::Seed seed{};
  if (frame.size() != seed.size())
    throw net::NetError(what + " set-up: party " + std::to_string(peer) + " sent a seed of " +
                        std::to_string(frame.size()) + " bytes");
  std::copy(frame.begin(), frame.end(), seed.begin());
  return seed;
}

DealerSeeds agree_dealer_seeds(net::Mesh& mesh, const char* what) {
  net::PhaseScope phase(mesh.stats(), kOfflinePhase);
  DealerSeeds seeds;
  if (mesh.self() == kDealer) {
    const mpc::Seed s0 = mpc::random_seed(), s1 = mpc::random_seed();
    mesh.send(0, s0);
    mesh.send(1, s1);
    seeds.with_p0.emplace(s0);
    seeds.with_p1.emplace(s1);
    return seeds;
  }
  const mpc::Seed seed = seed_from_frame(mesh.recv(kDealer), kDealer, what);
  (mesh.self() == 0 ? seeds.with_p0 : seeds.with_p1).emplace(seed);
  return seeds;
}

ReplicatedSeeds agree_replicated_seeds(net::Mesh& mesh, const char* what) {
  const int next = (mesh.self() + 1) % kParties, previous = (mesh.self() + kParties - 1) % kParties;
  ReplicatedSeeds seeds{mpc::random_seed(), {}};
  const net::Outgoing out[] = {{previous, seeds.own}};
  const int from[] = {next};
  seeds.next = seed_from_frame(mesh.exchange(out, from).front(), next, what);
  return seeds;
}

}  // namespace protocols
