// The TLS mesh doing its job: payloads of every size arrive intact, large symmetric exchanges do
// not deadlock, and the accounting is exact.
#include "net/frame.hpp"
#include "net/tls_mesh.hpp"
#include "tests/net/net_test_util.hpp"
#include "tests/support/party_harness.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <thread>

using net::Bytes;
using net::Mesh;
using net::Outgoing;

namespace {

// Deterministic bytes that differ for every (from, to, size, tag), so a misrouted frame shows.
Bytes payload_for(int from, int to, std::size_t size, std::uint64_t tag = 0) {
  Bytes out(size);
  std::uint64_t state = (static_cast<std::uint64_t>(from) << 48) ^ (static_cast<std::uint64_t>(to) << 40) ^ size ^
                        (tag << 20) ^ 0x9e3779b97f4a7c15ULL;
  for (std::size_t i = 0; i < size; i += 8) {
    state += 0x9e3779b97f4a7c15ULL;  // splitmix64
    std::uint64_t z = state;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    std::memcpy(out.data() + i, &z, std::min<std::size_t>(8, size - i));
  }
  return out;
}

std::vector<int> others(const Mesh& mesh) {
  std::vector<int> ids;
  for (int p = 0; p < mesh.size(); ++p)
    if (p != mesh.self()) ids.push_back(p);
  return ids;
}

// Every party sends a distinct payload of `size` bytes to every other party in one round.
void exchange_with_everyone(Mesh& mesh, std::size_t size) {
  const std::vector<int> peers = others(mesh);
  std::vector<Bytes> payloads;
  std::vector<Outgoing> out;
  for (int p : peers) payloads.push_back(payload_for(mesh.self(), p, size));
  for (std::size_t i = 0; i < peers.size(); ++i) out.push_back({peers[i], payloads[i]});
  const std::vector<Bytes> got = mesh.exchange(out, peers);
  ASSERT_EQ(got.size(), peers.size());
  for (std::size_t i = 0; i < peers.size(); ++i)
    ASSERT_TRUE(got[i] == payload_for(peers[i], mesh.self(), size))
        << "party " << mesh.self() << " got a wrong " << size << "-byte payload from party " << peers[i];
}

}  // namespace

TEST(TlsMesh, ThreePartiesExchangePayloadsOfManySizes) {
  // Sizes around the 16 KiB TLS record and the staging split, plus empty and odd sizes.
  const std::vector<std::size_t> sizes = {0, 1, 7, 20, 16363, 16364, 16365, 16384, 65536, (1u << 20) + 3};
  test_support::run_tls_parties(3, [&](Mesh& mesh) {
    EXPECT_EQ(mesh.size(), 3);
    for (std::size_t size : sizes) exchange_with_everyone(mesh, size);
  });
}

TEST(TlsMesh, SixtyFourMebibyteExchangeBetweenThreePartiesDoesNotDeadlock) {
  // Every party writes 64 MiB to both others before reading anything: far beyond the socket
  // buffers, so this only completes if reads and writes progress together.
  test_support::run_tls_parties(3, [](Mesh& mesh) { exchange_with_everyone(mesh, std::size_t(64) << 20); });
}

TEST(TlsMesh, SendAndRecvKeepFrameOrderAndMixWithExchange) {
  test_support::run_tls_parties(2, [](Mesh& mesh) {
    const int peer = 1 - mesh.self();
    if (mesh.self() == 0) {
      for (std::uint64_t tag = 0; tag < 5; ++tag) mesh.send(peer, payload_for(0, 1, 100 + tag, tag));
    } else {
      for (std::uint64_t tag = 0; tag < 5; ++tag) EXPECT_EQ(mesh.recv(peer), payload_for(0, 1, 100 + tag, tag));
    }
    const Bytes mine = payload_for(mesh.self(), peer, 3000);
    const Outgoing out[] = {{peer, mine}};
    const int from[] = {peer};
    EXPECT_EQ(mesh.exchange(out, from).at(0), payload_for(peer, mesh.self(), 3000));
  });
}

TEST(TlsMesh, SeveralFramesToOnePeerInOneRoundArriveInOrder) {
  test_support::run_tls_parties(2, [](Mesh& mesh) {
    const int peer = 1 - mesh.self();
    const Bytes a = payload_for(mesh.self(), peer, 50000, 1), b = payload_for(mesh.self(), peer, 10, 2);
    const Outgoing out[] = {{peer, a}, {peer, b}};
    const int from[] = {peer, peer};
    const std::vector<Bytes> got = mesh.exchange(out, from);
    EXPECT_EQ(got.at(0), payload_for(peer, mesh.self(), 50000, 1));
    EXPECT_EQ(got.at(1), payload_for(peer, mesh.self(), 10, 2));
    EXPECT_EQ(mesh.stats().rounds("setup"), 1u);
  });
}

// A party that finishes first (as the 2PC dealer, which only sends, does) must not reset the
// connection while its peer still has frames to read. Bytes that arrive after its last receive
// (keep-alive beats in practice; here a large frame it never reads, so that they are there for sure)
// would make closing the socket reset the connection, which destroys the frames the peer has
// received but not read. The finished party's mesh reads them and lingers until the peer closes.
TEST(TlsMesh, APeerThatFinishesFirstLeavesItsLastFramesReadable) {
  constexpr std::size_t kFrameBytes = 4 << 20;
  constexpr int kFrames = 4;
  int frames_read = 0;
  test_support::run_tls_parties(
      2,
      [&](Mesh& mesh) {
        if (mesh.self() == 0) {
          std::vector<Bytes> payloads;
          for (int f = 0; f < kFrames; ++f) payloads.push_back(payload_for(0, 1, kFrameBytes, f));
          std::vector<Outgoing> out;
          for (const Bytes& p : payloads) out.push_back({1, p});
          // More than the socket buffers hold: this returns once party 1 has started to read
          // (after its unread frame arrived), with the last frames still in this socket.
          mesh.exchange(out, {});
          return;  // the mesh closes while party 1 has not read everything
        }
        // Large enough that most of it stays in party 0's socket: TLS reads one record ahead.
        const Bytes unread = payload_for(1, 0, 1 << 20);
        const Outgoing late[] = {{0, unread}};
        mesh.exchange(late, {});
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        for (int f = 0; f < kFrames; ++f) {
          const int from[] = {0};
          EXPECT_EQ(mesh.exchange({}, from).at(0), payload_for(0, 1, kFrameBytes, f)) << "frame " << f;
          ++frames_read;
        }
      },
      test_support::test_mesh_options());
  EXPECT_EQ(frames_read, kFrames);
}

// The 2PC dealer's pattern: one peer streams more than the sockets hold to a party that is busy
// waiting on another peer. With read-ahead the party reads the stream into memory while it waits,
// so the streaming peer is done (and may close) before the party receives from it; within a small
// budget, or without read-ahead, the stream waits for the party's receives. Every frame arrives
// intact and in order either way.
TEST(TlsMesh, FramesSentAheadAreReadWhileWaitingOnAnotherPeer) {
  constexpr std::size_t kFrameBytes = 1 << 20;
  constexpr int kFrames = 24;
  const auto streamed_while_waiting = [&](std::uint64_t read_ahead, std::chrono::milliseconds patience) {
    std::atomic<bool> streamed{false};
    bool streamed_before_receiving = false;
    int frames_read = 0;
    net::MeshOptions opts = test_support::test_mesh_options();
    opts.read_ahead_bytes = read_ahead;
    test_support::run_tls_parties(
        3,
        [&](Mesh& mesh) {
          if (mesh.self() == 2) {
            for (int f = 0; f < kFrames; ++f) mesh.send(1, payload_for(2, 1, kFrameBytes, f));
            streamed = true;
            return;
          }
          if (mesh.self() == 0) {
            const auto give_up = std::chrono::steady_clock::now() + patience;
            while (!streamed && std::chrono::steady_clock::now() < give_up)
              std::this_thread::sleep_for(std::chrono::milliseconds(5));
            mesh.send(1, payload_for(0, 1, 16));
            return;
          }
          EXPECT_EQ(mesh.recv(0), payload_for(0, 1, 16));  // waits on party 0 while party 2 streams
          streamed_before_receiving = streamed;
          for (int f = 0; f < kFrames; ++f) {
            EXPECT_EQ(mesh.recv(2), payload_for(2, 1, kFrameBytes, f)) << "frame " << f;
            ++frames_read;
          }
        },
        opts);
    EXPECT_EQ(frames_read, kFrames);
    return streamed_before_receiving;
  };
  EXPECT_TRUE(streamed_while_waiting(std::uint64_t(64) << 20, std::chrono::milliseconds(20000)));
  EXPECT_FALSE(streamed_while_waiting(std::uint64_t(4) << 20, std::chrono::milliseconds(1000)));
  EXPECT_FALSE(streamed_while_waiting(0, std::chrono::milliseconds(1000)));
}

TEST(TlsMesh, AccountingIsExactPerPhaseAndPeer) {
  constexpr std::uint64_t kHeader = net::kFrameHeaderBytes;
  test_support::run_tls_parties(3, [](Mesh& mesh) {
    {
      net::PhaseScope phase(mesh.stats(), "alpha");
      exchange_with_everyone(mesh, 100);
      exchange_with_everyone(mesh, 0);
    }
    {
      net::PhaseScope phase(mesh.stats(), "beta");
      if (mesh.self() == 0) mesh.send(1, payload_for(0, 1, 10));
      if (mesh.self() == 1) {
        EXPECT_EQ(mesh.recv(0).size(), 10u);
      }
    }
    const net::Counters alpha = mesh.stats().phase_total("alpha");
    EXPECT_EQ(alpha.rounds, 2u);
    EXPECT_EQ(alpha.messages_sent, 4u);
    EXPECT_EQ(alpha.messages_received, 4u);
    EXPECT_EQ(alpha.bytes_sent, 2 * (100 + kHeader) + 2 * kHeader);
    EXPECT_EQ(alpha.bytes_received, alpha.bytes_sent);
    for (int peer : others(mesh))
      EXPECT_EQ(mesh.stats().by_phase_and_peer().at("alpha").at(peer).bytes_sent, 100 + 2 * kHeader);

    const net::Counters beta = mesh.stats().phase_total("beta");
    EXPECT_EQ(beta.rounds, 0u);
    EXPECT_EQ(beta.bytes_sent, mesh.self() == 0 ? 10 + kHeader : 0u);
    EXPECT_EQ(beta.messages_sent, mesh.self() == 0 ? 1u : 0u);
    EXPECT_EQ(beta.bytes_received, mesh.self() == 1 ? 10 + kHeader : 0u);
    EXPECT_EQ(beta.messages_received, mesh.self() == 1 ? 1u : 0u);
    // The hello frames of the set-up are connection establishment, not protocol traffic.
    EXPECT_EQ(mesh.stats().total().bytes_sent, alpha.bytes_sent + beta.bytes_sent);
  });
}

TEST(TlsMesh, RejectsChannelsToItselfOrUnknownParties) {
  test_support::run_tls_parties(2, [](Mesh& mesh) {
    const Bytes data(4);
    EXPECT_THROW(mesh.send(mesh.self(), data), std::invalid_argument);
    EXPECT_THROW(mesh.recv(7), std::invalid_argument);
    const Outgoing out[] = {{-1, data}};
    EXPECT_THROW(mesh.exchange(out, {}), std::invalid_argument);
    // The bad calls used no sequence number: the channel still works.
    exchange_with_everyone(mesh, 8);
  });
}

TEST(TlsMesh, FailureInOnePartyEndsTheRunWithThatPartysId) {
  const auto start = std::chrono::steady_clock::now();
  try {
    test_support::run_tls_parties(3, [](Mesh& mesh) {
      if (mesh.self() == 2) throw std::logic_error("party body failed on purpose");
      exchange_with_everyone(mesh, 10);  // the others then see party 2 close its connections
    }, net_test::fast_options());
    FAIL() << "expected a PartyFailure";
  } catch (const test_support::PartyFailure& failure) {
    EXPECT_EQ(failure.party(), 2);
    EXPECT_NE(std::string(failure.what()).find("on purpose"), std::string::npos) << failure.what();
    EXPECT_THROW(failure.rethrow_cause(), std::logic_error);
  }
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}
