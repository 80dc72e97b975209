// The seed agreements of a session, over its (authenticated) mesh. Every party of the mesh calls
// them at the same point; `what` names the seeds in errors.
//  - dealer seeds: the dealer (mesh id 2: the 2PC dealer, or P2 dealing FSS keys in 3PC) draws a
//    seed for each of P0 and P1 and sends it in the "offline" phase; each of P0 and P1 gets the
//    PRG it shares with the dealer, the dealer gets both.
//  - replicated seeds (3PC): party i draws k_i and gives it to party i-1, so that each key is held
//    by exactly two parties and party i holds (k_i, k_{i+1}); one round in the caller's phase.
#pragma once

#include "mpc/prg.hpp"
#include "net/mesh.hpp"

#include <optional>
#include <string>

namespace protocols {

struct DealerSeeds {
  std::optional<mpc::Prg> with_p0, with_p1;
};

DealerSeeds agree_dealer_seeds(net::Mesh& mesh, const char* what);

struct ReplicatedSeeds {
  mpc::Seed own;   // k_i, also held by party i-1
  mpc::Seed next;  // k_{i+1}, also held by party i+1
};

ReplicatedSeeds agree_replicated_seeds(net::Mesh& mesh, const char* what);

// A seed received from `peer`; throws net::NetError unless the frame has exactly a seed's size.
mpc::Seed seed_from_frame(const net::Bytes& frame, int peer, const std::string& what);

}  // namespace protocols
