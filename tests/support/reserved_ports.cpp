#include "tests/support/reserved_ports.hpp"

#include "net/listening_ports.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <string>

namespace test_support {

namespace fs = std::filesystem;

fs::path port_lock_folder() { return fs::temp_directory_path() / "mpcache-test-ports"; }

ReservedPorts::ReservedPorts(int count) {
  fs::create_directories(port_lock_folder());
  first_ = net::pick_listening_ports(count, [this](std::uint16_t first, int n) { return try_lock(first, n); });
}

ReservedPorts::~ReservedPorts() { release(); }

bool ReservedPorts::try_lock(std::uint16_t first, int count) {
  for (int i = 0; i < count; ++i) {
    const fs::path file = port_lock_folder() / (std::to_string(first + i) + ".lock");
    const int fd = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0 || ::flock(fd, LOCK_EX | LOCK_NB) != 0) {
      if (fd >= 0) ::close(fd);
      release();
      return false;
    }
    lock_fds_.push_back(fd);
  }
  return true;
}

void ReservedPorts::release() {
  for (const int fd : lock_fds_) ::close(fd);
  lock_fds_.clear();
}

}  // namespace test_support
