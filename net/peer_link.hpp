// A single authenticated channel from one party to a lower-id party, set up exactly as the mesh
// does it (dial, TLS handshake, certificate check, hello). It exposes the wire level, including
// writing arbitrary bytes inside TLS, for diagnostics tools and for tests that play a faulty peer.
#pragma once

#include "net/mesh.hpp"
#include "net/parties_config.hpp"
#include "net/tls_mesh.hpp"

#include <memory>
#include <span>

namespace boost::asio {
class io_context;
}

namespace net {

class TlsChannel;

class PeerLink {
 public:
  // Acts as party `self` (its certificate and key from `cfg`) and dials party `peer` < self.
  PeerLink(const PartiesConfig& cfg, int self, int peer, const MeshOptions& opts = {});
  ~PeerLink();
  PeerLink(const PeerLink&) = delete;
  PeerLink& operator=(const PeerLink&) = delete;

  // A well-formed frame with the next sequence number.
  void send_frame(std::span<const std::uint8_t> payload);
  // Bytes written as they are inside the TLS stream (no framing added).
  void send_raw(std::span<const std::uint8_t> bytes);
  Bytes recv_frame();

 private:
  std::unique_ptr<boost::asio::io_context> io_;
  MeshOptions opts_;
  std::unique_ptr<TlsChannel> channel_;
};

}  // namespace net
