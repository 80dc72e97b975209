#include "net/channel_factory.hpp"

#include "net/frame.hpp"
#include "net/mesh.hpp"
#include "net/tls_context.hpp"
#include "net/transfers.hpp"

#include <boost/asio/connect.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

namespace net {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kRetryDelay = std::chrono::milliseconds(50);

struct AsyncResult {
  bool done = false;
  boost::system::error_code error;
};

std::chrono::milliseconds remaining(ChannelFactory::Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - ChannelFactory::Clock::now());
  return std::max(left, std::chrono::milliseconds(1));
}

// Runs the io_context until the operation completes or the deadline passes; returns whether it completed.
bool run_until(asio::io_context& io, const AsyncResult& result, ChannelFactory::Clock::time_point deadline) {
  while (!result.done && ChannelFactory::Clock::now() < deadline) {
    if (io.stopped()) io.restart();
    io.run_one_until(deadline);
  }
  return result.done;
}

// After cancelling, the handler still has to run before the operation's objects can go away.
void drain(asio::io_context& io, const AsyncResult& result) {
  while (!result.done) {
    if (io.stopped()) io.restart();
    io.run_one();
  }
}

constexpr std::size_t kHelloIdBytes = 8;
constexpr std::size_t kHelloMaxBytes = 512;

// Party id and party count (u32 each, little-endian), then the link profile: its numbers, which
// must agree, a '|' and its description for messages.
Bytes encode_hello(int self, int parties, const LinkProfile& link) {
  Bytes hello(kHelloIdBytes);
  for (int i = 0; i < 4; ++i) {
    hello[i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(self) >> (8 * i));
    hello[4 + i] = static_cast<std::uint8_t>(static_cast<std::uint32_t>(parties) >> (8 * i));
  }
  const std::string profile = link.canonical() + "|" + link.describe();
  hello.insert(hello.end(), profile.begin(), profile.end());
  return hello;
}

// The link part of a hello: its numbers and its description.
std::pair<std::string, std::string> hello_link(const Bytes& hello) {
  const std::string text(hello.begin() + kHelloIdBytes, hello.end());
  const auto bar = text.find('|');
  if (bar == std::string::npos) return {text, text};
  return {text.substr(0, bar), text.substr(bar + 1)};
}

}  // namespace

ChannelFactory::ChannelFactory(asio::io_context& io, const PartiesConfig& cfg, int self, const MeshOptions& opts)
    : io_(io), cfg_(cfg), self_(self), opts_(opts), ctx_(make_tls_context(cfg, self)) {
  if (self_ == cfg_.size() - 1) return;
  const PartyEntry& me = cfg_.party(self_);
  try {
    tcp::resolver resolver(io_);
    const auto endpoint = resolver.resolve(me.host, std::to_string(me.port))->endpoint();
    acceptor_.emplace(io_);
    acceptor_->open(endpoint.protocol());
    acceptor_->set_option(tcp::acceptor::reuse_address(true));
    acceptor_->bind(endpoint);
    acceptor_->listen();
  } catch (const boost::system::system_error& e) {
    throw NetError("party " + std::to_string(self_) + ": cannot listen on " + address_of(self_) + ": " + e.what());
  }
  spdlog::debug("party {}: listening on {}", self_, address_of(self_));
}

std::string ChannelFactory::address_of(int id) const {
  const PartyEntry& entry = cfg_.party(id);
  return entry.host + ":" + std::to_string(entry.port);
}

tcp::socket ChannelFactory::connect_with_retries(int peer, Clock::time_point deadline) {
  const PartyEntry& entry = cfg_.party(peer);
  std::string last_error = "no attempt made";
  while (Clock::now() < deadline) {
    tcp::socket socket(io_);
    auto result = std::make_shared<AsyncResult>();
    try {
      tcp::resolver resolver(io_);
      const auto endpoints = resolver.resolve(entry.host, std::to_string(entry.port));
      asio::async_connect(socket, endpoints, [result](const boost::system::error_code& ec, const tcp::endpoint&) {
        result->done = true;
        result->error = ec;
      });
    } catch (const boost::system::system_error& e) {
      result->done = true;
      result->error = e.code();
    }
    if (!run_until(io_, *result, deadline)) {
      boost::system::error_code ignored;
      socket.close(ignored);
      drain(io_, *result);
      last_error = "connection attempt still pending";
      break;
    }
    if (!result->error) return socket;
    last_error = result->error.message();
    std::this_thread::sleep_for(std::min<Clock::duration>(kRetryDelay, std::max<Clock::duration>(deadline - Clock::now(), {})));
  }
  throw NetError("party " + std::to_string(self_) + ": could not connect to party " + std::to_string(peer) + " at " +
                 address_of(peer) + " within " + format_seconds(opts_.connect_timeout) + " (last error: " +
                 last_error + ")");
}

std::unique_ptr<TlsChannel> ChannelFactory::dial(int peer, Clock::time_point deadline) {
  tcp::socket socket = connect_with_retries(peer, deadline);
  auto channel = std::make_unique<TlsChannel>(std::move(socket), ctx_.get(), false, self_, "party " + std::to_string(peer));
  authenticate(*channel, peer, deadline);
  spdlog::debug("party {}: connected to party {} at {}", self_, peer, address_of(peer));
  return channel;
}

std::optional<tcp::socket> ChannelFactory::accept_one(Clock::time_point deadline) {
  tcp::socket socket(io_);
  auto result = std::make_shared<AsyncResult>();
  acceptor_->async_accept(socket, [result](const boost::system::error_code& ec) {
    result->done = true;
    result->error = ec;
  });
  if (!run_until(io_, *result, deadline)) {
    boost::system::error_code ignored;
    acceptor_->cancel(ignored);
    drain(io_, *result);
    return std::nullopt;
  }
  if (result->error)
    throw NetError("party " + std::to_string(self_) + ": accepting on " + address_of(self_) +
                   " failed: " + result->error.message());
  return socket;
}

void ChannelFactory::accept_higher(std::vector<std::unique_ptr<TlsChannel>>& channels, Clock::time_point deadline) {
  auto missing = [&] {
    std::string list;
    for (int j = self_ + 1; j < cfg_.size(); ++j)
      if (!channels[j]) list += (list.empty() ? "" : ", ") + std::to_string(j);
    return list;
  };
  for (std::string waiting = missing(); !waiting.empty(); waiting = missing()) {
    std::optional<tcp::socket> socket = accept_one(deadline);
    if (!socket)
      throw NetError("party " + std::to_string(self_) + ": party " + waiting + " did not connect to " +
                     address_of(self_) + " within " + format_seconds(opts_.connect_timeout));
    boost::system::error_code ec;
    const auto remote = socket->remote_endpoint(ec);
    const std::string label = "incoming connection from " +
                              (ec ? std::string("(unknown address)")
                                  : remote.address().to_string() + ":" + std::to_string(remote.port()));
    auto channel = std::make_unique<TlsChannel>(std::move(*socket), ctx_.get(), true, self_, label);
    authenticate(*channel, std::nullopt, deadline);
    const int peer = channel->peer();
    if (channels[peer]) channel->fail("accepting", "party " + std::to_string(peer) + " is already connected");
    spdlog::debug("party {}: accepted party {} ({})", self_, peer, label);
    channels[peer] = std::move(channel);
  }
}

int ChannelFactory::identify(TlsChannel& channel, std::optional<int> expected_peer) const {
  SSL* ssl = channel.ssl();
  const X509* cert = SSL_get0_peer_certificate(ssl);
  if (cert == nullptr) channel.fail("authenticating", "the peer presented no certificate");
  const long verify = SSL_get_verify_result(ssl);
  if (verify != X509_V_OK)
    channel.fail("authenticating", std::string("certificate rejected: ") + X509_verify_cert_error_string(verify));
  const std::string name = ossl::common_name(cert);
  const std::optional<int> id = party_id_from_common_name(name);
  if (!id) channel.fail("authenticating", "the certificate names '" + name + "', which is not a party of this deployment");
  if (expected_peer && *id != *expected_peer)
    channel.fail("authenticating", "the certificate names '" + name + "' but " + party_common_name(*expected_peer) +
                                        " was expected (wrong certificate or wrong address)");
  if (!expected_peer && (*id <= self_ || *id >= cfg_.size()))
    channel.fail("authenticating", "the certificate names '" + name + "', but only parties " +
                                        std::to_string(self_ + 1) + ".." + std::to_string(cfg_.size() - 1) +
                                        " connect to party " + std::to_string(self_));
  return *id;
}

void ChannelFactory::exchange_hello(TlsChannel& channel, Clock::time_point deadline) {
  const Bytes hello = encode_hello(self_, cfg_.size(), opts_.link);
  SendBytes send = SendBytes::frame(channel, hello);
  ReceiveFrame receive(channel, kHelloMaxBytes);
  Transfer* transfers[] = {&send, &receive};
  run_transfers(io_, transfers, remaining(deadline), false);
  const Bytes expected = encode_hello(channel.peer(), cfg_.size(), opts_.link);
  const Bytes got = receive.take_payload();
  if (got.size() < kHelloIdBytes || !std::equal(expected.begin(), expected.begin() + kHelloIdBytes, got.begin()))
    channel.fail("greeting", "the hello frame does not match the certificate or the number of parties (expected party " +
                                 std::to_string(channel.peer()) + " of " + std::to_string(cfg_.size()) + ")");
  const auto [peer_link, peer_description] = hello_link(got);
  if (peer_link != opts_.link.canonical())
    channel.fail("greeting", "the peer emulates the network " + peer_description + ", this party " +
                                 opts_.link.describe() + ": every party of a session needs the same --network");
  if (opts_.link.shaped()) channel.enable_shaping(opts_.link);
}

void ChannelFactory::authenticate(TlsChannel& channel, std::optional<int> expected_peer, Clock::time_point deadline) {
  Handshake handshake(channel);
  Transfer* transfers[] = {&handshake};
  run_transfers(io_, transfers, remaining(deadline), false);
  channel.identify_peer(identify(channel, expected_peer));
  exchange_hello(channel, deadline);
}

}  // namespace net
