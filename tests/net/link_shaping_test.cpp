// The in-process link emulation over real TLS: frames are never delivered before the emulated
// link would deliver them, streams are pipelined as on a real link, accounting does not change,
// and parties that disagree on the network refuse each other. Lower bounds are exact (the
// emulation guarantees them); upper bounds are generous, for a loaded machine.
#include "net/tls_mesh.hpp"
#include "tests/net/net_test_util.hpp"
#include "tests/support/party_harness.hpp"

#include <gtest/gtest.h>

#include <chrono>

using net::Bytes;
using net::Mesh;
using net::Outgoing;

namespace {

using Clock = std::chrono::steady_clock;

double since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

net::MeshOptions shaped(const std::string& network) {
  net::MeshOptions opts = test_support::test_mesh_options();
  opts.link = net::parse_link_profile(network);
  return opts;
}

// One round between parties 0 and 1 with `bytes` each way.
void round_between_0_and_1(Mesh& mesh, std::size_t bytes) {
  if (mesh.self() > 1) return;
  const int peer = 1 - mesh.self();
  const Bytes payload(bytes, static_cast<std::uint8_t>(mesh.self()));
  const Outgoing out[] = {{peer, payload}};
  const int from[] = {peer};
  const auto got = mesh.exchange(out, from);
  ASSERT_EQ(got.at(0), Bytes(bytes, static_cast<std::uint8_t>(peer)));
}

// Party 0 sends `bytes`, party 1 answers with one byte; returns party 0's time for it (causally
// at least the round trip plus the frame's time on the wire, whenever the parties started).
double ping_pong_seconds(Mesh& mesh, std::size_t bytes) {
  const auto start = Clock::now();
  if (mesh.self() == 0) {
    mesh.send(1, Bytes(bytes, 7));
    EXPECT_EQ(mesh.recv(1), Bytes(1, 8));
  } else {
    EXPECT_EQ(mesh.recv(0), Bytes(bytes, 7));
    mesh.send(0, Bytes(1, 8));
  }
  return since(start);
}

}  // namespace

TEST(LinkShaping, EachMessageWaitsOneOneWayLatency) {
  constexpr int kTrips = 10;
  test_support::run_tls_parties(2, [](Mesh& mesh) {
    double elapsed = 0;
    for (int r = 0; r < kTrips; ++r) elapsed += ping_pong_seconds(mesh, 100);
    if (mesh.self() != 0) return;
    EXPECT_GE(elapsed, kTrips * 0.020) << "a frame was delivered before the 10 ms one-way latency";
    EXPECT_LT(elapsed, kTrips * 0.020 + 3.0);
    EXPECT_GE(mesh.stats().total_wait_seconds(), kTrips * 0.020 * 0.99);
  }, shaped("10gbit,20ms"));
}

TEST(LinkShaping, LargeFramesTakeTheirSizeOverTheRate) {
  test_support::run_tls_parties(2, [](Mesh& mesh) {
    const double elapsed = ping_pong_seconds(mesh, 1'000'000);  // 8 Mbit at 80 Mbit/s: 0.1 s, plus 1 ms RTT
    if (mesh.self() != 0) return;
    EXPECT_GE(elapsed, 0.101);
    EXPECT_LT(elapsed, 0.101 + 3.0);
  }, shaped("80mbit,1ms"));
}

TEST(LinkShaping, OneWayStreamsArePipelinedNotChargedALatencyPerFrame) {
  constexpr int kFrames = 40;
  test_support::run_tls_parties(2, [](Mesh& mesh) {
    const auto start = Clock::now();
    if (mesh.self() == 0)
      for (int i = 0; i < kFrames; ++i) mesh.send(1, Bytes(64, static_cast<std::uint8_t>(i)));
    if (mesh.self() == 1)
      for (int i = 0; i < kFrames; ++i) ASSERT_EQ(mesh.recv(0), Bytes(64, static_cast<std::uint8_t>(i)));
    if (mesh.self() == 1) {
      // (No lower bound here: party 0 may have started sending before party 1 started its clock.)
      EXPECT_LT(since(start), kFrames * 0.020 / 2) << "frames of a stream waited for each other's latency";
    }
  }, shaped("1gbit,40ms"));
}

TEST(LinkShaping, AccountingIsTheSameAsOnAnUnshapedLink) {
  auto sent_after_rounds = [](const net::MeshOptions& opts) {
    std::vector<net::Counters> totals(2);
    test_support::run_tls_parties(2, [&totals](Mesh& mesh) {
      round_between_0_and_1(mesh, 1000);
      round_between_0_and_1(mesh, 0);
      totals[static_cast<std::size_t>(mesh.self())] = mesh.stats().total();
    }, opts);
    return totals;
  };
  const auto plain = sent_after_rounds(test_support::test_mesh_options());
  const auto shaped_totals = sent_after_rounds(shaped("1gbit,1ms"));
  for (std::size_t p = 0; p < 2; ++p) {
    EXPECT_EQ(shaped_totals[p].bytes_sent, plain[p].bytes_sent);
    EXPECT_EQ(shaped_totals[p].wire_bytes_sent, plain[p].wire_bytes_sent);
    EXPECT_EQ(shaped_totals[p].rounds, 2u);
  }
}

TEST(LinkShaping, PartiesWithDifferentNetworksRefuseEachOther) {
  const auto deployment = test_support::make_test_deployment(2);
  const auto errors = test_support::run_party_threads(2, [&](int id) {
    net::MeshOptions opts = shaped(id == 0 ? "wan" : "lan");
    opts.connect_timeout = std::chrono::milliseconds(10000);
    net::connect_tls_mesh(deployment->config, id, opts);
  });
  for (const auto& error : errors) net_test::expect_net_error(error, {"--network", "wan", "lan"});
}
