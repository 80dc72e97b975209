// The first exchange of every session: all parties announce what they are about to run (backend,
// fraction bits, mesh size and a caller-supplied description of the job) and refuse to continue
// unless everyone agrees, so that a misconfigured party fails at once with a message naming the
// difference instead of producing garbage or hanging halfway through a computation.
#pragma once

#include "net/mesh.hpp"

#include <stdexcept>
#include <string>

namespace protocols {

class SessionMismatch : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct SessionDescription {
  std::string backend;
  int frac_bits = 0;
  int parties = 0;
  std::string config;
};

// One round with every peer (phase "setup"). Throws SessionMismatch listing every disagreement.
void run_session_handshake(net::Mesh& mesh, const SessionDescription& mine);

}  // namespace protocols
