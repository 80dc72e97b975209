#include "tests/privacy/recording_mesh.hpp"

#include <algorithm>

namespace privacy_test {

// The protocols open phase scopes on this mesh's Stats, so the decorator keeps its own accounting
// (payload bytes only) to know the phase of every frame it records.
void RecordingMesh::send(int peer, std::span<const std::uint8_t> payload) {
  inner_.send(peer, payload);
  stats_.on_send(peer, payload.size());
}

net::Bytes RecordingMesh::recv(int peer) {
  net::Bytes payload = inner_.recv(peer);
  record(peer, payload);
  return payload;
}

std::vector<net::Bytes> RecordingMesh::exchange(std::span<const net::Outgoing> out, std::span<const int> from) {
  std::vector<net::Bytes> payloads = inner_.exchange(out, from);
  for (const net::Outgoing& o : out) stats_.on_send(o.peer, o.payload.size());
  for (std::size_t i = 0; i < from.size(); ++i) record(from[i], payloads[i]);
  stats_.on_round();
  return payloads;
}

void RecordingMesh::record(int peer, const net::Bytes& payload) {
  stats_.on_receive(peer, payload.size());
  received_.push_back({peer, stats_.phase(), payload});
}

net::Bytes payload_bytes(const std::vector<ReceivedFrame>& frames, const std::vector<std::string>& skipped_phases) {
  net::Bytes all;
  for (const ReceivedFrame& frame : frames)
    if (std::find(skipped_phases.begin(), skipped_phases.end(), frame.phase) == skipped_phases.end())
      all.insert(all.end(), frame.payload.begin(), frame.payload.end());
  return all;
}

}  // namespace privacy_test
