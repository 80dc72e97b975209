// A barrier over the mesh: one round in which every party sends one byte to every other and waits
// for theirs. Used to start timed work in lockstep (a party that received nothing yet, e.g. in
// 3PC input, would otherwise start its clock while another is still busy) and to confirm the
// completion of a job.
#pragma once

#include "net/mesh.hpp"

namespace net {

// Throws NetError if a peer fails or sends anything but the barrier byte.
void barrier(Mesh& mesh);

}  // namespace net
