#include "net/socket_bio.hpp"

#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace net {

namespace {

constexpr std::size_t kBufferBytes = 256 * 1024;

struct SocketState {
  int fd;
  std::vector<std::uint8_t> in = std::vector<std::uint8_t>(kBufferBytes);
  std::size_t in_begin = 0, in_end = 0;  // unread received bytes
  std::vector<std::uint8_t> out = std::vector<std::uint8_t>(kBufferBytes);
  std::size_t out_begin = 0, out_end = 0;  // bytes accepted but not yet sent
};

SocketState& state_of(BIO* bio) { return *static_cast<SocketState*>(BIO_get_data(bio)); }

bool would_block(int err) { return err == EAGAIN || err == EWOULDBLOCK || err == EINTR; }

// Sends buffered output until it is all gone (true) or the socket is full or failed (false; errno set).
bool drain_output(SocketState& s) {
  while (s.out_begin < s.out_end) {
    const ssize_t n = ::send(s.fd, s.out.data() + s.out_begin, s.out_end - s.out_begin, MSG_NOSIGNAL);
    if (n < 0) return false;
    s.out_begin += static_cast<std::size_t>(n);
  }
  s.out_begin = s.out_end = 0;
  return true;
}

// Moves the unsent bytes to the front, so the space freed by a partial send can be reused.
void compact_output(SocketState& s) {
  std::memmove(s.out.data(), s.out.data() + s.out_begin, s.out_end - s.out_begin);
  s.out_end -= s.out_begin;
  s.out_begin = 0;
}

int socket_write(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  SocketState& s = state_of(bio);
  const auto wanted = static_cast<std::size_t>(length);
  if (s.out_end + wanted > s.out.size()) {
    if (!drain_output(s)) {
      if (!would_block(errno)) return -1;
      compact_output(s);
      if (s.out_end + wanted > s.out.size()) {
        BIO_set_retry_write(bio);
        return -1;
      }
    }
  }
  if (wanted > s.out.size()) {  // larger than the whole buffer (never for TLS records): send directly
    const ssize_t n = ::send(s.fd, data, wanted, MSG_NOSIGNAL);
    if (n < 0 && would_block(errno)) BIO_set_retry_write(bio);
    return static_cast<int>(n);
  }
  std::memcpy(s.out.data() + s.out_end, data, wanted);
  s.out_end += wanted;
  return length;
}

int socket_read(BIO* bio, char* data, int length) {
  BIO_clear_retry_flags(bio);
  SocketState& s = state_of(bio);
  if (s.in_begin == s.in_end) {
    const ssize_t n = ::recv(s.fd, s.in.data(), s.in.size(), 0);
    if (n <= 0) {  // 0: the peer closed; <0: error, or nothing there yet
      if (n < 0 && would_block(errno)) BIO_set_retry_read(bio);
      return static_cast<int>(n);
    }
    s.in_begin = 0;
    s.in_end = static_cast<std::size_t>(n);
  }
  const std::size_t count = std::min(static_cast<std::size_t>(length), s.in_end - s.in_begin);
  std::memcpy(data, s.in.data() + s.in_begin, count);
  s.in_begin += count;
  return static_cast<int>(count);
}

long socket_ctrl(BIO* bio, int command, long, void*) {
  SocketState& s = state_of(bio);
  switch (command) {
    case BIO_CTRL_FLUSH:
      BIO_clear_retry_flags(bio);
      if (drain_output(s)) return 1;
      if (would_block(errno)) BIO_set_retry_write(bio);
      return -1;
    case BIO_CTRL_PENDING: return static_cast<long>(s.in_end - s.in_begin);
    case BIO_CTRL_WPENDING: return static_cast<long>(s.out_end - s.out_begin);
    default: return 0;
  }
}

int socket_create(BIO* bio) {
  BIO_set_init(bio, 0);
  BIO_set_data(bio, nullptr);
  return 1;
}

int socket_destroy(BIO* bio) {
  delete static_cast<SocketState*>(BIO_get_data(bio));
  BIO_set_data(bio, nullptr);
  return 1;
}

BIO_METHOD* socket_method() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "mpcache buffered socket");
    BIO_meth_set_write(m, socket_write);
    BIO_meth_set_read(m, socket_read);
    BIO_meth_set_ctrl(m, socket_ctrl);
    BIO_meth_set_create(m, socket_create);
    BIO_meth_set_destroy(m, socket_destroy);
    return m;
  }();
  return method;
}

}  // namespace

BIO* new_socket_bio(int fd) {
  auto state = std::make_unique<SocketState>(SocketState{fd});
  BIO* bio = BIO_new(socket_method());
  if (bio == nullptr) return nullptr;
  BIO_set_data(bio, state.release());  // owned by the BIO from here on, freed by socket_destroy
  BIO_set_init(bio, 1);
  return bio;
}

std::size_t buffered_output_room(BIO* bio) {
  SocketState& s = state_of(bio);
  compact_output(s);
  return s.out.size() - s.out_end;
}

}  // namespace net
