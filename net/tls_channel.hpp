// One authenticated TLS connection to one peer, on a non-blocking socket owned by a shared
// io_context. The channel itself never blocks: transfers (transfers.hpp) drive SSL reads and
// writes, and the channel registers readiness waits on the socket when they cannot proceed.
#pragma once

#include "net/openssl_handles.hpp"
#include "net/stats.hpp"
#include "net/tls_context.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <memory>
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
  // Cancels pending waits (their handlers still run, with operation_aborted).
  void cancel_waits();

  std::uint64_t take_send_sequence() { return next_send_sequence_++; }
  std::uint64_t expected_receive_sequence() const { return next_receive_sequence_; }
  void advance_receive_sequence() { ++next_receive_sequence_; }

  // Where the channel takes the current phase from, for error messages.
  void set_stats(const Stats* stats) { stats_ = stats; }
  std::string phase() const { return stats_ ? stats_->phase() : std::string("setup"); }

  // After a failure the byte stream is out of step; every later use fails with the first reason.
  void mark_broken(const std::string& reason);
  void throw_if_broken() const;

  // A NetError "party S: <action> <peer> failed in phase 'P': <what>".
  [[noreturn]] void fail(const std::string& action, const std::string& what) const;

 private:
  struct Waits {
    bool read = false;
    bool write = false;
  };

  boost::asio::ip::tcp::socket socket_;
  ossl::SslPtr ssl_;
  VerifyNotes notes_;
  std::shared_ptr<Waits> waits_ = std::make_shared<Waits>();
  bool accepting_;
  int self_;
  int peer_ = -1;
  std::string peer_label_;
  std::uint64_t next_send_sequence_ = 0;
  std::uint64_t next_receive_sequence_ = 0;
  const Stats* stats_ = nullptr;
  std::string broken_;
};

}  // namespace net
