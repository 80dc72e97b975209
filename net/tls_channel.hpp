// One authenticated TLS connection to one peer, on a non-blocking socket owned by a shared
// io_context. The channel itself never blocks: transfers (transfers.hpp) drive SSL reads and
// writes, and the channel registers readiness waits on the socket when they cannot proceed.
// Once a mesh is up, a second thread writes keep-alive beats on the channel (tls_mesh.cpp): an SSL
// object is not thread safe, so both threads hold ssl_lock() around every SSL call from then on.
#pragma once

#include "net/link_profile.hpp"
#include "net/openssl_handles.hpp"
#include "net/progress_clock.hpp"
#include "net/stats.hpp"
#include "net/tls_context.hpp"

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

namespace net {

enum class IoWant { read, write };

class TlsChannel {
 public:
  // `accepting` selects the server side of the handshake; `peer_label` names the peer in
  // messages until its identity is known ("incoming connection from 10.0.0.2:50312").
  TlsChannel(boost::asio::ip::tcp::socket socket, SSL_CTX* ctx, bool accepting, int self, std::string peer_label);
  ~TlsChannel();
  TlsChannel(const TlsChannel&) = delete;
  TlsChannel& operator=(const TlsChannel&) = delete;

  int self() const { return self_; }
  int peer() const { return peer_; }  // -1 until identified
  const std::string& peer_label() const { return peer_label_; }
  void identify_peer(int id);
  bool accepting() const { return accepting_; }
  SSL* ssl() { return ssl_.get(); }
  const VerifyNotes& verify_notes() const { return notes_; }
  std::string remote_address() const;

  // Registers a readiness wait unless one is already pending for that direction; the pending
  // wait is what lets io_context.run_one() return when this channel can make progress.
  void await(IoWant want);
  // Registers a wake-up at `when` unless one is already pending (a shaped link holding a frame).
  void await_time(std::chrono::steady_clock::time_point when);
  // Cancels pending waits (their handlers still run, with operation_aborted).
  void cancel_waits();
  bool has_pending_waits() const { return waits_->read || waits_->write || waits_->time; }

  std::mutex& ssl_lock() const { return ssl_lock_; }
  // Set while a frame is partly written: a beat must not land inside it, nor interrupt a write
  // that OpenSSL expects to be retried with the same bytes.
  void set_frame_in_progress(bool in_progress) { frame_in_progress_ = in_progress; }
  // Where the beats received on this channel report the peer's progress (none: they are only dropped).
  void set_progress(ProgressClock* progress) { progress_ = progress; }
  void note_beat(std::uint64_t progress_age_ms) {
    if (progress_) progress_->mark_reported_age(progress_age_ms);
  }
  // Called from the beat thread: writes one beat unless the channel is busy, broken or full, and
  // never fails. After an error (the peer gone) the channel stops beating; the caller's next use
  // of it reports the failure.
  void beat(std::uint64_t progress_age_ms);
  // Whether the peer has shut down its sending side (FIN received), even with data still unread.
  bool peer_shut_down_writing();

  // From now on every frame carries its send time and incoming frames are delivered as the link
  // profile says (link_profile.hpp). Both ends must enable it together (the hello checks it).
  void enable_shaping(const LinkProfile& profile) { incoming_link_.emplace(profile); }
  bool shaped() const { return incoming_link_.has_value(); }
  LinkDirectionModel& incoming_link() { return *incoming_link_; }

  std::uint64_t take_send_sequence() { return next_send_sequence_++; }
  std::uint64_t expected_receive_sequence() const { return next_receive_sequence_; }
  void advance_receive_sequence() { ++next_receive_sequence_; }

  // Where the channel takes the current phase from, for error messages.
  void set_stats(const Stats* stats) { stats_ = stats; }
  std::string phase() const { return stats_ ? stats_->phase() : std::string("setup"); }

  // Whether the peer has closed its end (close_notify, end of stream or reset): a non-blocking peek
  // that consumes no application data. Unread frames before the close hide it, so `false` does
  // not prove the peer alive.
  bool peer_has_closed() const;

  // After a failure the byte stream is out of step; every later use fails with the first reason.
  void mark_broken(const std::string& reason);
  void throw_if_broken() const;
  bool broken() const { return !broken_.empty(); }

  // A NetError "party S: <action> <peer> failed in phase 'P': <what>".
  [[noreturn]] void fail(const std::string& action, const std::string& what) const;

 private:
  struct Waits {
    bool read = false;
    bool write = false;
    bool time = false;
  };

  boost::asio::ip::tcp::socket socket_;
  ossl::SslPtr ssl_;
  VerifyNotes notes_;
  std::shared_ptr<Waits> waits_ = std::make_shared<Waits>();
  boost::asio::steady_timer hold_timer_;
  std::optional<LinkDirectionModel> incoming_link_;
  bool accepting_;
  int self_;
  int peer_ = -1;
  std::string peer_label_;
  std::uint64_t next_send_sequence_ = 0;
  std::uint64_t next_receive_sequence_ = 0;
  const Stats* stats_ = nullptr;
  std::string broken_;
  mutable std::mutex ssl_lock_;
  bool frame_in_progress_ = false;
  bool beats_stopped_ = false;
  ProgressClock* progress_ = nullptr;
};

}  // namespace net
