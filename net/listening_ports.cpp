#include "net/listening_ports.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

namespace net {

namespace {

constexpr int kLowestPort = 10000;
constexpr int kMinimumRangeSize = 1000;

// Linux's default when /proc cannot be read.
PortRange ephemeral_range() {
  PortRange range{32768, 60999};
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int first = 0, last = 0;
  if (in >> first >> last && first > 0 && last >= first) range = {first, last};
  return range;
}

}  // namespace

PortRange listening_port_range() {
  const PortRange ephemeral = ephemeral_range();
  if (ephemeral.first - 1 - kLowestPort >= kMinimumRangeSize) return {kLowestPort, ephemeral.first - 1};
  if (65535 - (ephemeral.last + 1) >= kMinimumRangeSize) return {ephemeral.last + 1, 65535};
  throw std::runtime_error("the kernel's ephemeral port range " + std::to_string(ephemeral.first) + "-" +
                           std::to_string(ephemeral.last) + " leaves fewer than " + std::to_string(kMinimumRangeSize) +
                           " ports for listening; give --base-port explicitly");
}

bool can_listen_on_loopback(std::uint16_t port) {
  namespace ip = boost::asio::ip;
  boost::asio::io_context io;
  ip::tcp::acceptor acceptor(io);
  boost::system::error_code ec;
  const ip::tcp::endpoint endpoint(ip::address_v4::loopback(), port);
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(ip::tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  return !ec;
}

std::uint16_t pick_listening_ports(int count, const std::function<bool(std::uint16_t, int)>& reserve) {
  const PortRange range = listening_port_range();
  std::random_device rd;  // spreads concurrent launches over the range; nothing secret depends on it
  std::uniform_int_distribution<int> first_port(range.first, range.last - count + 1);
  constexpr int kAttempts = 1000;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    const auto first = static_cast<std::uint16_t>(first_port(rd));
    bool free = true;
    for (int i = 0; i < count && free; ++i) free = can_listen_on_loopback(static_cast<std::uint16_t>(first + i));
    if (free && (!reserve || reserve(first, count))) return first;
  }
  throw std::runtime_error("no " + std::to_string(count) + " consecutive free loopback ports found in " +
                           std::to_string(range.first) + "-" + std::to_string(range.last) + " after " +
                           std::to_string(kAttempts) + " attempts");
}

}  // namespace net
