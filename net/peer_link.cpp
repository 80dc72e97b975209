#include "net/peer_link.hpp"

#include "net/channel_factory.hpp"
#include "net/transfers.hpp"

#include <boost/asio/io_context.hpp>

namespace net {

PeerLink::PeerLink(const PartiesConfig& cfg, int self, int peer, const MeshOptions& opts)
    : io_(std::make_unique<boost::asio::io_context>()), opts_(opts) {
  if (peer < 0 || peer >= self)
    throw std::invalid_argument("PeerLink: party " + std::to_string(self) + " can only dial a lower id, not " +
                                std::to_string(peer));
  ChannelFactory factory(*io_, cfg, self, opts);
  channel_ = factory.dial(peer, ChannelFactory::Clock::now() + opts.connect_timeout);
}

PeerLink::~PeerLink() {
  channel_.reset();  // the socket goes before the io_context it is registered with
}

void PeerLink::send_frame(std::span<const std::uint8_t> payload) {
  SendBytes transfer = SendBytes::frame(*channel_, payload);
  Transfer* transfers[] = {&transfer};
  run_transfers(*io_, transfers, opts_.io_timeout, true);
}

void PeerLink::send_raw(std::span<const std::uint8_t> bytes) {
  SendBytes transfer = SendBytes::raw(*channel_, bytes);
  Transfer* transfers[] = {&transfer};
  run_transfers(*io_, transfers, opts_.io_timeout, true);
}

Bytes PeerLink::recv_frame() {
  ReceiveFrame transfer(*channel_, opts_.max_frame_bytes);
  Transfer* transfers[] = {&transfer};
  run_transfers(*io_, transfers, opts_.io_timeout, true);
  return transfer.take_payload();
}

}  // namespace net
