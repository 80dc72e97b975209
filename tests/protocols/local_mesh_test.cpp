// The in-process mesh: the same accounting as the TLS mesh, and a silent peer ends in a NetError
// naming it instead of a hang.
#include "net/local_mesh.hpp"
#include "protocols/factory.hpp"

#include <gtest/gtest.h>

#include <array>

namespace {

TEST(LocalMesh, ExchangeCountsBytesMessagesAndOneRound) {
  std::array<net::Counters, 2> totals;
  net::run_local_parties(2, [&](net::Mesh& mesh) {
    const std::uint8_t payload[5] = {1, 2, 3, 4, 5};
    const net::Outgoing out[] = {{1 - mesh.self(), payload}};
    const int from[] = {1 - mesh.self()};
    const auto got = mesh.exchange(out, from);
    EXPECT_EQ(got.front(), net::Bytes(payload, payload + 5));
    totals[mesh.self()] = mesh.stats().total();
  });
  for (const auto& t : totals) {
    EXPECT_EQ(t.bytes_sent, 5u);
    EXPECT_EQ(t.bytes_received, 5u);
    EXPECT_EQ(t.rounds, 1u);
  }
}

TEST(LocalMesh, SilentPeerTimesOutWithItsName) {
  auto meshes = net::make_local_meshes(2, std::chrono::milliseconds(50));
  try {
    meshes[0]->recv(1);
    FAIL() << "recv returned without a frame";
  } catch (const net::NetError& e) {
    EXPECT_NE(std::string(e.what()).find("waiting for party 1"), std::string::npos) << e.what();
  }
}

TEST(LocalMesh, RunsAProtocolSession) {
  std::array<mpc::RingMatrix, 3> got;
  const mpc::RingMatrix x = mpc::RingMatrix::Constant(2, 2, 7);
  net::run_local_parties(3, [&](net::Mesh& mesh) {
    auto p = protocols::make_protocol(protocols::Backend::ThreePartyReplicated, mesh);
    const auto s = p->input(0, mesh.self() == 0 ? &x : nullptr, 2, 2);
    got[mesh.self()] = p->reveal(p->mul(s, s), protocols::kRevealToAll);
  });
  for (const auto& g : got) EXPECT_EQ(g, mpc::RingMatrix::Constant(2, 2, 49));
}

}  // namespace
