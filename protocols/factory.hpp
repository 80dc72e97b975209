// Creating a backend for this process's place in the mesh, and the boolean backend that goes with
// it: the role follows from mesh.self() (2PC: 0 = P0 model owner, 1 = P1 user, 2 = dealer; 3PC:
// parties 0, 1, 2). make_protocol runs the session handshake, then exchanges fresh seeds for this
// session over the (authenticated) mesh, all in the "setup" phase.
#pragma once

#include "mpc/fixed_point.hpp"
#include "net/mesh.hpp"
#include "protocols/boolean.hpp"
#include "protocols/common/session_handshake.hpp"
#include "protocols/protocol.hpp"

#include <memory>
#include <string>

namespace protocols {

// Both backends need exactly three mesh parties. `session_config` is any description of the job the
// parties must agree on (model, shapes, flags); a mismatch throws SessionMismatch on every party.
std::unique_ptr<Protocol> make_protocol(Backend backend, net::Mesh& mesh, mpc::FixedPoint fp = mpc::FixedPoint(),
                                        const std::string& session_config = "");

// The boolean backend matching proto.backend(); agrees its seeds over proto.mesh() (one message
// from the dealer in 2PC, one round in 3PC). Every party must construct it at the same point.
std::unique_ptr<BooleanBackend> make_boolean_backend(Protocol& proto);

}  // namespace protocols
