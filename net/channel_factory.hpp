// Opens the authenticated channels of one party: dialling a lower-id party (retrying until the
// deadline) or accepting higher-id ones, then the TLS handshake, the check that the peer's
// certificate names the expected party, and one hello frame each way.
#pragma once

#include "net/openssl_handles.hpp"
#include "net/parties_config.hpp"
#include "net/tls_channel.hpp"
#include "net/tls_mesh.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <memory>
#include <optional>
#include <vector>

namespace net {

class ChannelFactory {
 public:
  using Clock = std::chrono::steady_clock;

  // Starts listening at once when some higher-id party will dial this one, so that early
  // connections wait in the kernel's backlog instead of being refused.
  ChannelFactory(boost::asio::io_context& io, const PartiesConfig& cfg, int self, const MeshOptions& opts);

  std::unique_ptr<TlsChannel> dial(int peer, Clock::time_point deadline);
  // Accepts until channels[j] is set for every j > self.
  void accept_higher(std::vector<std::unique_ptr<TlsChannel>>& channels, Clock::time_point deadline);

  SSL_CTX* context() const { return ctx_.get(); }

 private:
  boost::asio::ip::tcp::socket connect_with_retries(int peer, Clock::time_point deadline);
  std::optional<boost::asio::ip::tcp::socket> accept_one(Clock::time_point deadline);
  void authenticate(TlsChannel& channel, std::optional<int> expected_peer, Clock::time_point deadline);
  int identify(TlsChannel& channel, std::optional<int> expected_peer) const;
  void exchange_hello(TlsChannel& channel, Clock::time_point deadline);
  std::string address_of(int id) const;

  boost::asio::io_context& io_;
  const PartiesConfig& cfg_;
  int self_;
  MeshOptions opts_;
  ossl::SslCtxPtr ctx_;
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
};

}  // namespace net
