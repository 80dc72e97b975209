// Loopback ports for local launches: outside the ephemeral range, free, and exclusive while reserved.
#include "net/listening_ports.hpp"
#include "tests/support/reserved_ports.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <memory>
#include <string>
#include <vector>

namespace {

int ephemeral_first() {
  std::ifstream in("/proc/sys/net/ipv4/ip_local_port_range");
  int first = 32768;
  in >> first;
  return first;
}

TEST(ListeningPorts, RangeLiesOutsideTheEphemeralPorts) {
  const net::PortRange range = net::listening_port_range();
  EXPECT_GE(range.last - range.first, 1000);
  EXPECT_TRUE(range.last < ephemeral_first() || range.first > ephemeral_first());
}

TEST(ListeningPorts, PickedBlockIsFreeAndInsideTheRange) {
  const net::PortRange range = net::listening_port_range();
  const std::uint16_t first = net::pick_listening_ports(3);
  EXPECT_GE(first, range.first);
  EXPECT_LE(first + 2, range.last);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(net::can_listen_on_loopback(static_cast<std::uint16_t>(first + i)));
}

TEST(ListeningPorts, APortSomeoneListensOnIsNotFree) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor held(io, {boost::asio::ip::address_v4::loopback(), net::pick_listening_ports(1)});
  EXPECT_FALSE(net::can_listen_on_loopback(held.local_endpoint().port()));
}

TEST(ListeningPorts, ReserveDecidesAndIsAskedForTheWholeBlock) {
  int asked = 0;
  const std::uint16_t first = net::pick_listening_ports(4, [&](std::uint16_t, int count) {
    EXPECT_EQ(count, 4);
    return ++asked == 3;  // refuse the first two blocks
  });
  EXPECT_EQ(asked, 3);
  EXPECT_GT(first, 0);
}

// Whether another open file description can lock `port`'s lock file now, as another test process would.
bool lockable_by_another_process(std::uint16_t port) {
  const auto file = test_support::port_lock_folder() / (std::to_string(port) + ".lock");
  const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
  if (fd < 0) return false;
  const bool locked = ::flock(fd, LOCK_EX | LOCK_NB) == 0;
  ::close(fd);
  return locked;
}

TEST(ReservedPorts, HoldTheirLocksUntilDestroyed) {
  auto reserved = std::make_unique<test_support::ReservedPorts>(3);
  const std::uint16_t first = reserved->port(0);
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(lockable_by_another_process(static_cast<std::uint16_t>(first + i)));
  reserved.reset();
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(lockable_by_another_process(static_cast<std::uint16_t>(first + i)));
}

}  // namespace
