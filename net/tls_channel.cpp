#include "net/tls_channel.hpp"

#include "net/frame.hpp"
#include "net/mesh.hpp"
#include "net/socket_bio.hpp"

#include <openssl/err.h>
#include <poll.h>

#include <cerrno>
#include <spdlog/spdlog.h>

namespace net {

TlsChannel::TlsChannel(boost::asio::ip::tcp::socket socket, SSL_CTX* ctx, bool accepting, int self,
                       std::string peer_label)
    : socket_(std::move(socket)), hold_timer_(socket_.get_executor()), accepting_(accepting), self_(self), peer_label_(std::move(peer_label)) {
  socket_.non_blocking(true);
  // Frames are written whole and the reader waits for all of them: Nagle would only add latency.
  socket_.set_option(boost::asio::ip::tcp::no_delay(true));
  ERR_clear_error();
  ssl_.reset(SSL_new(ctx));
  BIO* bio = ssl_ ? new_socket_bio(socket_.native_handle()) : nullptr;
  if (bio == nullptr) fail("setting up TLS with", "out of memory (" + ossl::drain_errors() + ")");
  SSL_set_bio(ssl_.get(), bio, bio);
  attach_verify_notes(ssl_.get(), &notes_);
  if (accepting_)
    SSL_set_accept_state(ssl_.get());
  else
    SSL_set_connect_state(ssl_.get());
}

TlsChannel::~TlsChannel() {
  // Best effort close_notify so the peer sees a clean end rather than a reset; never blocks.
  if (ssl_ && broken_.empty() && SSL_is_init_finished(ssl_.get())) {
    ERR_clear_error();
    SSL_shutdown(ssl_.get());
    BIO_flush(SSL_get_wbio(ssl_.get()));
    ERR_clear_error();
  }
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void TlsChannel::identify_peer(int id) {
  peer_ = id;
  peer_label_ = "party " + std::to_string(id);
}

std::string TlsChannel::remote_address() const {
  boost::system::error_code ec;
  const auto endpoint = socket_.remote_endpoint(ec);
  return ec ? std::string("(unknown address)") : endpoint.address().to_string() + ":" + std::to_string(endpoint.port());
}

void TlsChannel::await(IoWant want) {
  bool& pending = want == IoWant::read ? waits_->read : waits_->write;
  if (pending) return;
  pending = true;
  // The handler holds the flags by shared_ptr, so it stays valid whenever the io_context runs it.
  auto waits = waits_;
  socket_.async_wait(want == IoWant::read ? boost::asio::ip::tcp::socket::wait_read
                                          : boost::asio::ip::tcp::socket::wait_write,
                     [waits, want](const boost::system::error_code&) {
                       (want == IoWant::read ? waits->read : waits->write) = false;
                     });
}

void TlsChannel::await_time(std::chrono::steady_clock::time_point when) {
  if (waits_->time) return;
  waits_->time = true;
  auto waits = waits_;
  hold_timer_.expires_at(when);
  hold_timer_.async_wait([waits](const boost::system::error_code&) { waits->time = false; });
}

void TlsChannel::cancel_waits() {
  boost::system::error_code ignored;
  socket_.cancel(ignored);
  hold_timer_.cancel();
}

namespace {

// A beat (20 bytes) is one TLS 1.3 record of 42 bytes; the margin covers any record overhead.
constexpr std::size_t kBeatRecordRoom = 128;

}  // namespace

bool TlsChannel::peer_shut_down_writing() {
  pollfd p{socket_.native_handle(), POLLRDHUP, 0};
  return ::poll(&p, 1, 0) > 0 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR)) != 0;
}

void TlsChannel::beat(std::uint64_t progress_age_ms) {
  // Never waits for the caller's thread: a channel it is using moves bytes, which is progress anyway.
  std::unique_lock lock(ssl_lock_, std::try_to_lock);
  if (!lock.owns_lock() || beats_stopped_ || frame_in_progress_ || !broken_.empty()) return;
  // A peer that has closed its side is done with this channel: a beat would reach a closed socket,
  // whose reset could discard what the peer sent before closing and this party has not read yet.
  if (peer_shut_down_writing()) {
    beats_stopped_ = true;
    return;
  }
  // With room in the buffer, the record is only copied there: OpenSSL is never left with a retry.
  BIO* wire = SSL_get_wbio(ssl_.get());
  if (buffered_output_room(wire) < kBeatRecordRoom) return;
  const EncodedHeader beat = encode_beat(progress_age_ms);
  std::size_t written = 0;
  ERR_clear_error();
  if (SSL_write_ex(ssl_.get(), beat.data(), beat.size(), &written) != 1) beats_stopped_ = true;
  // A full socket is fine: the record stays buffered and leaves with the next flush.
  else if (BIO_flush(wire) <= 0 && !BIO_should_retry(wire)) beats_stopped_ = true;
  ERR_clear_error();
}

bool TlsChannel::peer_has_closed() const {
  std::lock_guard lock(ssl_lock_);
  // SSL_peek leaves application data where it is and reports a close_notify as a zero return.
  std::uint8_t byte = 0;
  std::size_t got = 0;
  ERR_clear_error();
  errno = 0;
  if (SSL_peek_ex(ssl_.get(), &byte, 1, &got) == 1) return false;
  const int error = SSL_get_error(ssl_.get(), 0);
  const int saved_errno = errno;
  ERR_clear_error();
  if (error == SSL_ERROR_ZERO_RETURN) return true;
  if (error == SSL_ERROR_SYSCALL) return saved_errno == 0 || saved_errno == ECONNRESET || saved_errno == EPIPE;
  return false;
}

void TlsChannel::mark_broken(const std::string& reason) {
  std::lock_guard lock(ssl_lock_);  // the beat thread reads it
  if (broken_.empty()) broken_ = reason;
}

void TlsChannel::throw_if_broken() const {
  if (!broken_.empty())
    throw NetError("party " + std::to_string(self_) + ": the connection to " + peer_label_ +
                   " is unusable after an earlier failure: " + broken_);
}

void TlsChannel::fail(const std::string& action, const std::string& what) const {
  throw NetError("party " + std::to_string(self_) + ": " + action + " " + peer_label_ + " failed in phase '" +
                 phase() + "': " + what);
}

}  // namespace net
