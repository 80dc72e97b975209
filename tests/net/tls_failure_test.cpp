// Every way a connection can go wrong ends in a NetError that names the peer (and the phase once
// the mesh is up), within the configured timeouts.
#include "net/frame.hpp"
#include "net/keygen.hpp"
#include "net/openssl_handles.hpp"
#include "net/peer_link.hpp"
#include "net/tls_mesh.hpp"
#include "tests/net/net_test_util.hpp"
#include "tests/support/party_harness.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <gtest/gtest.h>

#include <thread>

using net_test::expect_net_error;
using net_test::fast_options;
using test_support::make_test_deployment;
using test_support::run_party_threads;
using test_support::run_tls_parties_collect;

namespace {

using Clock = std::chrono::steady_clock;

net::CertificateSpec party_spec(int id) {
  net::CertificateSpec spec;
  spec.common_name = net::party_common_name(id);
  spec.dns_names = {spec.common_name};
  return spec;
}

std::string port_text(const net::PartiesConfig& cfg, int id) { return std::to_string(cfg.party(id).port); }

// A raw TCP connection to party 0's listening port, retried until party 0 listens (5 s at most).
void connect_to_party0(boost::asio::ip::tcp::socket& socket, const net::PartiesConfig& cfg) {
  boost::asio::ip::tcp::resolver resolver(socket.get_executor());
  const auto endpoints = resolver.resolve("127.0.0.1", port_text(cfg, 0));
  for (auto start = Clock::now();; std::this_thread::sleep_for(std::chrono::milliseconds(20))) {
    boost::system::error_code ec;
    boost::asio::connect(socket, endpoints, ec);
    if (!ec) return;
    if (Clock::now() - start > std::chrono::seconds(5)) throw std::runtime_error("party 0 never listened");
  }
}

// Party 0 runs a real mesh and calls `honest`; party 1 is played by a PeerLink given to `rogue`.
std::vector<std::exception_ptr> honest_against_rogue(const net::PartiesConfig& cfg, const net::MeshOptions& opts,
                                                     const std::function<void(net::Mesh&)>& honest,
                                                     const std::function<void(net::PeerLink&)>& rogue) {
  return run_party_threads(2, [&](int id) {
    if (id == 0) {
      auto mesh = net::connect_tls_mesh(cfg, 0, opts);
      net::PhaseScope phase(mesh->stats(), "online");
      honest(*mesh);
    } else {
      net::PeerLink link(cfg, 1, 0, opts);
      rogue(link);
    }
  });
}

net::Bytes raw_header(std::uint64_t sequence, std::uint64_t length, std::uint32_t magic = net::kFrameMagic) {
  const net::EncodedHeader header = net::encode_header({magic, sequence, length});
  return net::Bytes(header.begin(), header.end());
}

}  // namespace

TEST(TlsFailure, CertificateFromAnotherCaIsRejected) {
  auto deployment = make_test_deployment(2);
  const net::Credential other_ca = net::make_ca("some-other-ca");
  deployment->replace_party_certificate(1, party_spec(1), &other_ca);
  const auto errors = run_tls_parties_collect(deployment->config, [](net::Mesh&) {}, fast_options());
  expect_net_error(errors[0], {"party 0:", "incoming connection from 127.0.0.1", "mpcache-party-1",
                               "unable to get local issuer certificate"});
  expect_net_error(errors[1], {"party 1:", "party 0"});
}

TEST(TlsFailure, ExpiredCertificateIsRejected) {
  auto deployment = make_test_deployment(2);
  net::CertificateSpec expired = party_spec(1);
  expired.valid_from_days = -10;
  expired.valid_days = 5;
  deployment->replace_party_certificate(1, expired);
  const auto errors = run_tls_parties_collect(deployment->config, [](net::Mesh&) {}, fast_options());
  expect_net_error(errors[0], {"party 0:", "mpcache-party-1", "certificate has expired"});
  expect_net_error(errors[1], {"party 1:", "party 0"});
}

TEST(TlsFailure, ListenerWithAnotherPartysIdentityIsRejectedByTheDialler) {
  auto deployment = make_test_deployment(2);
  deployment->replace_party_certificate(0, party_spec(5));  // valid CA, wrong identity
  const auto errors = run_tls_parties_collect(deployment->config, [](net::Mesh&) {}, fast_options());
  expect_net_error(errors[1], {"party 1:", "party 0", "mpcache-party-5", "mpcache-party-0 was expected"});
  expect_net_error(errors[0], {"party 0:"});
}

TEST(TlsFailure, DiallerWithAnotherPartysIdentityIsRejectedByTheListener) {
  auto deployment = make_test_deployment(2);
  deployment->replace_party_certificate(1, party_spec(0));  // party 1 claims to be party 0
  const auto errors = run_tls_parties_collect(deployment->config, [](net::Mesh&) {}, fast_options());
  expect_net_error(errors[0], {"party 0:", "incoming connection from 127.0.0.1", "mpcache-party-0"});
  expect_net_error(errors[1], {"party 1:", "party 0"});
}

TEST(TlsFailure, PlaintextClientIsRejected) {
  auto deployment = make_test_deployment(2);
  const auto& cfg = deployment->config;
  const auto errors = run_party_threads(2, [&](int id) {
    if (id == 0) {
      net::connect_tls_mesh(cfg, 0, fast_options());
      return;
    }
    boost::asio::io_context io;
    boost::asio::ip::tcp::socket socket(io);
    connect_to_party0(socket, cfg);
    const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    boost::asio::write(socket, boost::asio::buffer(request));
    char reply[64];
    boost::system::error_code ec;
    socket.read_some(boost::asio::buffer(reply), ec);  // party 0 answers with an alert or closes
  });
  expect_net_error(errors[0], {"party 0:", "incoming connection from 127.0.0.1", "does not speak TLS"});
  EXPECT_FALSE(errors[1]) << test_support::describe(errors[1]);
}

TEST(TlsFailure, MissingPeerEndsInAConnectTimeout) {
  auto deployment = make_test_deployment(2);
  const auto& cfg = deployment->config;
  const auto start = Clock::now();
  std::exception_ptr dialler_error, listener_error;
  try {
    net::connect_tls_mesh(cfg, 1, fast_options(600));
  } catch (...) {
    dialler_error = std::current_exception();
  }
  try {
    net::connect_tls_mesh(cfg, 0, fast_options(300));
  } catch (...) {
    listener_error = std::current_exception();
  }
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(3));
  expect_net_error(dialler_error, {"party 1:", "could not connect to party 0 at 127.0.0.1:" + port_text(cfg, 0),
                                   "within 0.6 s"});
  expect_net_error(listener_error, {"party 0:", "party 1 did not connect", "within 0.3 s"});
}

TEST(TlsFailure, OversizeLengthIsRejectedBeforeAllocating) {
  auto deployment = make_test_deployment(2);
  net::MeshOptions opts = fast_options();
  opts.max_frame_bytes = 1 << 20;
  const auto errors = honest_against_rogue(
      deployment->config, opts, [](net::Mesh& mesh) { mesh.recv(1); },
      [](net::PeerLink& link) {
        link.send_raw(raw_header(1, std::uint64_t(1) << 40));
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      });
  expect_net_error(errors[0], {"party 0:", "party 1", "phase 'online'", "exceeds the limit of 1048576 bytes"});
}

TEST(TlsFailure, BadMagicIsRejected) {
  auto deployment = make_test_deployment(2);
  const auto errors = honest_against_rogue(
      deployment->config, fast_options(), [](net::Mesh& mesh) { mesh.recv(1); },
      [](net::PeerLink& link) { link.send_raw(raw_header(1, 4, 0xdeadbeef)); });
  expect_net_error(errors[0], {"party 0:", "party 1", "phase 'online'", "bad frame magic 0xdeadbeef"});
}

TEST(TlsFailure, TruncatedFrameIsReported) {
  auto deployment = make_test_deployment(2);
  const auto errors = honest_against_rogue(
      deployment->config, fast_options(), [](net::Mesh& mesh) { mesh.recv(1); },
      [](net::PeerLink& link) {
        link.send_raw(raw_header(1, 1000));
        link.send_raw(net::Bytes(100, 7));
      });  // the link closes here, 900 bytes short
  expect_net_error(errors[0], {"party 0:", "party 1", "phase 'online'", "truncated frame", "100 of 1000"});
}

TEST(TlsFailure, ReplayedFrameIsRejected) {
  auto deployment = make_test_deployment(2);
  const net::Bytes payload(16, 1);
  const auto errors = honest_against_rogue(
      deployment->config, fast_options(),
      [&](net::Mesh& mesh) {
        EXPECT_EQ(mesh.recv(1), payload);
        mesh.recv(1);
      },
      [&](net::PeerLink& link) {
        link.send_frame(payload);  // sequence 1
        net::Bytes replay = raw_header(1, payload.size());
        replay.insert(replay.end(), payload.begin(), payload.end());
        link.send_raw(replay);
      });
  expect_net_error(errors[0], {"party 0:", "party 1", "phase 'online'", "replayed frame: sequence 1", "expected 2"});
}

TEST(TlsFailure, ReorderedFrameIsRejected) {
  auto deployment = make_test_deployment(2);
  const auto errors = honest_against_rogue(
      deployment->config, fast_options(), [](net::Mesh& mesh) { mesh.recv(1); },
      [](net::PeerLink& link) { link.send_raw(raw_header(3, 0)); });
  expect_net_error(errors[0], {"party 0:", "party 1", "out-of-order frame: sequence 3, expected 1"});
}

TEST(TlsFailure, StalledPeerTimesOutAndTheChannelStaysClosed) {
  auto deployment = make_test_deployment(2);
  std::atomic<bool> honest_done{false};
  Clock::duration waited{};
  const auto errors = honest_against_rogue(
      deployment->config, fast_options(5000, 300),
      [&](net::Mesh& mesh) {
        const auto start = Clock::now();
        try {
          mesh.recv(1);
        } catch (const net::NetError&) {
          waited = Clock::now() - start;
          // The stream is now out of step: later use must fail at once, not read garbage.
          EXPECT_THROW(mesh.recv(1), net::NetError);
          honest_done = true;
          throw;
        }
      },
      [&](net::PeerLink& link) {
        link.send_raw(raw_header(1, 64));  // a header, then silence
        while (!honest_done) std::this_thread::sleep_for(std::chrono::milliseconds(10));
      });
  expect_net_error(errors[0], {"party 0:", "waiting for party 1", "phase 'online'", "no progress for 0.3 s",
                               "0 of 64 frame payload bytes"});
  EXPECT_LT(waited, std::chrono::seconds(2));
}

TEST(TlsFailure, PeerDisconnectingMidExchangeIsReported) {
  auto deployment = make_test_deployment(2);
  const auto errors = run_tls_parties_collect(
      deployment->config,
      [](net::Mesh& mesh) {
        if (mesh.self() == 1) return;  // leaves right after the set-up, closing its connection
        net::PhaseScope phase(mesh.stats(), "online");
        const net::Bytes data(8 << 20, 3);
        const net::Outgoing out[] = {{1, data}};
        const int from[] = {1};
        mesh.exchange(out, from);
      },
      fast_options());
  expect_net_error(errors[0], {"party 0:", "party 1", "phase 'online'", "closed the connection"});
  EXPECT_FALSE(errors[1]);
}

TEST(TlsFailure, OnePartyLeavingEndsEveryoneElsesExchangeQuickly) {
  auto deployment = make_test_deployment(3);
  const auto start = Clock::now();
  const auto errors = run_tls_parties_collect(
      deployment->config,
      [](net::Mesh& mesh) {
        if (mesh.self() == 2) return;
        net::PhaseScope phase(mesh.stats(), "online");
        const net::Bytes data(1 << 20, 3);
        const int peer = 1 - mesh.self();
        const net::Outgoing out[] = {{peer, data}, {2, data}};
        const int from[] = {peer, 2};
        mesh.exchange(out, from);
      },
      fast_options());
  // Whoever notices first names party 2; the other may then see that survivor close instead.
  const std::string first = test_support::describe(errors[0]) + test_support::describe(errors[1]);
  EXPECT_NE(first.find("party 2"), std::string::npos) << first;
  for (int id : {0, 1}) expect_net_error(errors[id], {"party " + std::to_string(id) + ":", "phase 'online'"});
  EXPECT_FALSE(errors[2]);
  EXPECT_LT(Clock::now() - start, std::chrono::seconds(4));
}

TEST(TlsFailure, ConfigurationProblemsAreConfigErrorsBeforeAnyNetworking) {
  auto deployment = make_test_deployment(2);
  EXPECT_THROW(net::connect_tls_mesh(deployment->config, 2, fast_options()), net::ConfigError);
  std::filesystem::remove(deployment->config.party(1).key);
  try {
    net::connect_tls_mesh(deployment->config, 1, fast_options());
    FAIL() << "expected a ConfigError";
  } catch (const net::ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("private key of party 1"), std::string::npos) << e.what();
  }
}

namespace {

// A TLS client limited to TLS 1.2 that holds party 1's genuine certificate and key, so the only
// thing wrong with it is the protocol version. Returns whether its handshake completed.
bool tls12_handshake_with_party0(const net::PartiesConfig& cfg) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::socket socket(io);
  connect_to_party0(socket, cfg);
  net::ossl::SslCtxPtr ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_set_max_proto_version(ctx.get(), TLS1_2_VERSION) != 1 ||
      SSL_CTX_use_certificate_chain_file(ctx.get(), cfg.party(1).cert.c_str()) != 1 ||
      SSL_CTX_use_PrivateKey_file(ctx.get(), cfg.party(1).key.c_str(), SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_load_verify_locations(ctx.get(), cfg.ca.c_str(), nullptr) != 1)
    throw std::runtime_error("cannot set up the TLS 1.2 client: " + net::ossl::drain_errors());
  net::ossl::SslPtr ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), socket.native_handle());
  return SSL_connect(ssl.get()) == 1;
}

}  // namespace

// The mesh speaks TLS 1.3 only: a client offering at most TLS 1.2, even with a valid party
// certificate, fails its handshake and the listener reports the incoming connection.
TEST(TlsFailure, Tls12ClientIsRejected) {
  auto deployment = make_test_deployment(2);
  const auto& cfg = deployment->config;
  bool client_handshake_completed = true;
  const auto errors = run_party_threads(2, [&](int id) {
    if (id == 0)
      net::connect_tls_mesh(cfg, 0, fast_options());
    else
      client_handshake_completed = tls12_handshake_with_party0(cfg);
  });
  EXPECT_FALSE(client_handshake_completed) << "a TLS 1.2 handshake with party 0 succeeded";
  expect_net_error(errors[0], {"party 0:", "TLS handshake with incoming connection from 127.0.0.1", "unsupported protocol"});
  EXPECT_FALSE(errors[1]) << test_support::describe(errors[1]);
}

// Party 0 leaves; party 1 notices and leaves too; party 2's failure on its channel to party 1 says
// that the connection to party 0 had closed as well (the dealer-after-P0-killed case).
TEST(TlsFailure, AFailureNamesTheOtherPeersThatHadClosedAlready) {
  const auto deployment = test_support::make_test_deployment(3);
  const auto errors = test_support::run_party_threads(3, [&](int id) {
    auto mesh = net::connect_tls_mesh(deployment->config, id, test_support::test_mesh_options());
    if (id == 0) return;  // gone at once
    if (id == 1) {
      EXPECT_THROW(mesh->recv(0), net::NetError);
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(500));  // both others have closed by now
    mesh->recv(1);
  });
  net_test::expect_net_error(errors[2], {"party 1", "the connection to party 0 had closed as well"});
}
