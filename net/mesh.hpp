// The party mesh: one authenticated, framed, bidirectional channel to every other party.
// Protocols talk only to this interface; TlsMesh (tls_mesh.hpp) is the real implementation,
// LocalMesh (local_mesh.hpp) an in-process one for fast unit tests of logic that is not about the network.
#pragma once

#include "net/operator_profile.hpp"
#include "net/stats.hpp"

#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace net {

using Bytes = std::vector<std::uint8_t>;

// Every network failure (peer gone, timeout, bad frame, bad certificate) surfaces as this type,
// with a message naming the peer and the phase.
class NetError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct Outgoing {
  int peer;
  std::span<const std::uint8_t> payload;
};

class Mesh {
 public:
  Mesh() = default;
  Mesh(const Mesh&) = delete;  // the profile refers to this mesh's own counters
  Mesh& operator=(const Mesh&) = delete;
  virtual ~Mesh() = default;

  virtual int self() const = 0;
  virtual int size() const = 0;

  // Sends one frame and returns once it is handed to the transport (used for one-way streams,
  // e.g. the dealer's corrections). Counts a message, not a round.
  virtual void send(int peer, std::span<const std::uint8_t> payload) = 0;
  // Receives the next frame from a peer. Counts a message, not a round.
  virtual Bytes recv(int peer) = 0;

  // One communication round: every send and every receive is in flight at the same time,
  // so large symmetric exchanges cannot deadlock. Returns the frames in the order of `from`.
  // Counts one round in the current phase.
  virtual std::vector<Bytes> exchange(std::span<const Outgoing> out, std::span<const int> from) = 0;

  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }
  // Per-operator-class breakdown of this party's time and traffic (see operator_profile.hpp).
  OperatorProfile& profile() { return profile_; }

 protected:
  Stats stats_;
  OperatorProfile profile_{stats_};
};

}  // namespace net
