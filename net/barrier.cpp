#include "net/barrier.hpp"

#include <string>
#include <vector>

namespace net {

void barrier(Mesh& mesh) {
  const std::uint8_t token = 1;
  std::vector<Outgoing> out;
  std::vector<int> from;
  for (int peer = 0; peer < mesh.size(); ++peer) {
    if (peer == mesh.self()) continue;
    out.push_back({peer, std::span(&token, 1)});
    from.push_back(peer);
  }
  const std::vector<Bytes> replies = mesh.exchange(out, from);
  for (std::size_t i = 0; i < replies.size(); ++i)
    if (replies[i] != Bytes{token})
      throw NetError("party " + std::to_string(from[i]) + " sent a malformed barrier message in phase '" +
                     mesh.stats().phase() + "'");
}

}  // namespace net
