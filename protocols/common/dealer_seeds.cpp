#include "protocols/common/dealer_seeds.hpp"

#include "protocols/protocol.hpp"

#include <algorithm>
#include <string>

namespace protocols {

namespace {
constexpr int kDealer = 2;
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
  const net::Bytes frame = mesh.recv(kDealer);
  mpc::Seed seed{};
  if (frame.size() != seed.size()) throw net::NetError(std::string(what) + " set-up: malformed seed frame from the dealer");
  std::copy(frame.begin(), frame.end(), seed.begin());
  (mesh.self() == 0 ? seeds.with_p0 : seeds.with_p1).emplace(seed);
  return seeds;
}

}  // namespace protocols
