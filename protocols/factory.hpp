// The arithmetic protocol alone, for this process's place in the mesh: the role follows from
// mesh.self() (2PC: 0 = P0 model owner, 1 = P1 user, 2 = dealer; 3PC: parties 0, 1, 2).
// make_protocol runs the session handshake, then exchanges fresh seeds for this session over the
// (authenticated) mesh, all in the "setup" phase. A job opens a protocols::Session
// (protocols/session.hpp), which calls it and sets up the boolean backend and the FSS key dealing
// beside it; only the tests and benchmarks of the arithmetic layer call it directly.
#pragma once

#include "mpc/fixed_point.hpp"
#include "net/mesh.hpp"
#include "protocols/common/session_handshake.hpp"
#include "protocols/protocol.hpp"

#include <memory>
#include <string>

namespace protocols {

// Both backends need exactly three mesh parties. `session_config` is any description of the job the
// parties must agree on (model, shapes, flags); a mismatch throws SessionMismatch on every party.
std::unique_ptr<Protocol> make_protocol(Backend backend, net::Mesh& mesh, mpc::FixedPoint fp = mpc::FixedPoint(),
                                        const std::string& session_config = "");

}  // namespace protocols
