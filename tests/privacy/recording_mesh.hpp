// A Mesh decorator that forwards everything to a real mesh and keeps a copy of every payload this
// party receives, with the peer and the accounting phase it arrived in. Frame headers are not
// recorded: they carry only public framing (lengths and sequence numbers).
#pragma once

#include "net/mesh.hpp"

#include <string>
#include <vector>

namespace privacy_test {

struct ReceivedFrame {
  int peer;
  std::string phase;
  net::Bytes payload;
};

class RecordingMesh final : public net::Mesh {
 public:
  explicit RecordingMesh(net::Mesh& inner) : inner_(inner) {}

  int self() const override { return inner_.self(); }
  int size() const override { return inner_.size(); }
  void send(int peer, std::span<const std::uint8_t> payload) override;
  net::Bytes recv(int peer) override;
  std::vector<net::Bytes> exchange(std::span<const net::Outgoing> out, std::span<const int> from) override;

  // Every received payload in arrival order.
  const std::vector<ReceivedFrame>& received() const { return received_; }

 private:
  void record(int peer, const net::Bytes& payload);

  net::Mesh& inner_;
  std::vector<ReceivedFrame> received_;
};

// The concatenated payloads of `frames`, leaving out those received in any of `skipped_phases`.
net::Bytes payload_bytes(const std::vector<ReceivedFrame>& frames, const std::vector<std::string>& skipped_phases);

}  // namespace privacy_test
