#pragma once
// Loopback ports held against the other test processes of a parallel run (ctest -j, the CLI
// tests' shell scripts): each port has a lock file in one shared folder, locked with flock() for
// as long as the reservation lives. Together with choosing below the ephemeral range
// (net/listening_ports.hpp), no other test can listen or connect from a reserved port.

#include <cstdint>
#include <filesystem>
#include <vector>

namespace test_support {

// The folder of the lock files, shared with tests/parties/cli_test.sh: <temp>/mpcache-test-ports.
std::filesystem::path port_lock_folder();

class ReservedPorts {
 public:
  // `count` consecutive ports, free and locked; throws when none can be found.
  explicit ReservedPorts(int count);
  ~ReservedPorts();
  ReservedPorts(const ReservedPorts&) = delete;
  ReservedPorts& operator=(const ReservedPorts&) = delete;

  std::uint16_t port(int i) const { return static_cast<std::uint16_t>(first_ + i); }

 private:
  bool try_lock(std::uint16_t first, int count);
  void release();

  std::uint16_t first_ = 0;
  std::vector<int> lock_fds_;
};

}  // namespace test_support
