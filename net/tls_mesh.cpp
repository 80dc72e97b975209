#include "net/tls_mesh.hpp"

#include "net/channel_factory.hpp"
#include "net/transfers.hpp"

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <deque>

namespace net {

namespace {

class TlsMesh final : public Mesh {
 public:
  TlsMesh(const PartiesConfig& cfg, int self, const MeshOptions& opts);
  ~TlsMesh() override;

  int self() const override { return self_; }
  int size() const override { return static_cast<int>(channels_.size()); }
  void send(int peer, std::span<const std::uint8_t> payload) override;
  Bytes recv(int peer) override;
  std::vector<Bytes> exchange(std::span<const Outgoing> out, std::span<const int> from) override;

 private:
  TlsChannel& channel(int peer);
  void run(std::span<Transfer* const> transfers);
  std::string other_closed_peers(const std::string& failure) const;

  // Declared first so that it is destroyed last, after every socket registered with it.
  boost::asio::io_context io_;
  int self_;
  MeshOptions opts_;
  std::vector<std::unique_ptr<TlsChannel>> channels_;
};

TlsMesh::TlsMesh(const PartiesConfig& cfg, int self, const MeshOptions& opts) : self_(self), opts_(opts) {
  if (self < 0 || self >= cfg.size())
    throw ConfigError("party id " + std::to_string(self) + " is not in the parties config (0.." +
                      std::to_string(cfg.size() - 1) + ")");
  const auto deadline = ChannelFactory::Clock::now() + opts.connect_timeout;
  ChannelFactory factory(io_, cfg, self, opts);
  channels_.resize(static_cast<std::size_t>(cfg.size()));
  // Dial lower ids before accepting higher ones: every party finishes its dialling before it
  // accepts, so the waits form a chain towards party 0 and can never be circular.
  for (int peer = 0; peer < self; ++peer) channels_[peer] = factory.dial(peer, deadline);
  factory.accept_higher(channels_, deadline);
  for (auto& c : channels_)
    if (c) c->set_stats(&stats_);
  spdlog::info("party {}: mesh of {} parties ready, network {}", self_, cfg.size(), opts.link.describe());
}

TlsMesh::~TlsMesh() { spdlog::debug("party {}: closing the mesh", self_); }

// Runs the transfers and charges the time they took to the current phase's network wait. A failure
// on one channel is often the echo of a peer that died earlier (its other peers fail too and
// leave): the message says which other connections had closed as well.
void TlsMesh::run(std::span<Transfer* const> transfers) {
  const auto start = std::chrono::steady_clock::now();
  try {
    run_transfers(io_, transfers, opts_.io_timeout, true);
    stats_.on_wait(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } catch (const NetError& e) {
    const std::string also = other_closed_peers(e.what());
    if (also.empty()) throw;
    throw NetError(std::string(e.what()) + " (" + also + ")");
  }
}

std::string TlsMesh::other_closed_peers(const std::string& failure) const {
  std::string closed;
  for (const auto& c : channels_) {
    if (!c || failure.find(c->peer_label() + " failed") != std::string::npos) continue;
    if (c->peer_has_closed()) closed += (closed.empty() ? "" : " and ") + c->peer_label();
  }
  return closed.empty() ? "" : "the connection to " + closed + " had closed as well";
}

TlsChannel& TlsMesh::channel(int peer) {
  if (peer < 0 || peer >= size() || peer == self_)
    throw std::invalid_argument("party " + std::to_string(self_) + ": no channel to party " + std::to_string(peer) +
                                " (mesh of " + std::to_string(size()) + ")");
  return *channels_[static_cast<std::size_t>(peer)];
}

void TlsMesh::send(int peer, std::span<const std::uint8_t> payload) {
  TlsChannel& c = channel(peer);
  c.throw_if_broken();
  SendBytes transfer = SendBytes::frame(c, payload);
  Transfer* transfers[] = {&transfer};
  run(transfers);
  stats_.on_send(peer, transfer.frame_bytes());
}

Bytes TlsMesh::recv(int peer) {
  ReceiveFrame transfer(channel(peer), opts_.max_frame_bytes);
  Transfer* transfers[] = {&transfer};
  run(transfers);
  stats_.on_receive(peer, transfer.total_bytes());
  return transfer.take_payload();
}

std::vector<Bytes> TlsMesh::exchange(std::span<const Outgoing> out, std::span<const int> from) {
  // Validate every peer before taking sequence numbers, so a bad argument leaves channels intact.
  for (const Outgoing& o : out) channel(o.peer).throw_if_broken();
  for (int peer : from) channel(peer).throw_if_broken();
  std::deque<SendBytes> sends;  // a deque keeps the transfers at stable addresses
  std::deque<ReceiveFrame> receives;
  std::vector<Transfer*> transfers;
  for (const Outgoing& o : out) transfers.push_back(&sends.emplace_back(SendBytes::frame(channel(o.peer), o.payload)));
  for (int peer : from) transfers.push_back(&receives.emplace_back(channel(peer), opts_.max_frame_bytes));
  run(transfers);
  for (std::size_t i = 0; i < out.size(); ++i) stats_.on_send(out[i].peer, sends[i].frame_bytes());
  std::vector<Bytes> received;
  received.reserve(from.size());
  for (std::size_t i = 0; i < from.size(); ++i) {
    stats_.on_receive(from[i], receives[i].total_bytes());
    received.push_back(receives[i].take_payload());
  }
  stats_.on_round();
  return received;
}

}  // namespace

std::unique_ptr<Mesh> connect_tls_mesh(const PartiesConfig& cfg, int self, const MeshOptions& opts) {
  return std::make_unique<TlsMesh>(cfg, self, opts);
}

}  // namespace net
