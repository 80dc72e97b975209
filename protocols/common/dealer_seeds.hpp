// Fresh seeds between a dealer (mesh id 2: the 2PC dealer, or P2 dealing FSS keys in 3PC) and each
// of P0 and P1, sent by the dealer in the "offline" phase: each of P0 and P1 gets the PRG it shares
// with the dealer, the dealer gets both.
#pragma once

#include "mpc/prg.hpp"
#include "net/mesh.hpp"

#include <optional>

namespace protocols {

struct DealerSeeds {
  std::optional<mpc::Prg> with_p0, with_p1;
};

// Every party of the mesh calls this at the same point; `what` names the seeds in errors.
DealerSeeds agree_dealer_seeds(net::Mesh& mesh, const char* what);

}  // namespace protocols
