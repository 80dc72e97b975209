// Non-blocking operations on TLS channels and the loop that drives several of them at once on
// one io_context: a TLS handshake, sending a frame (or raw bytes), receiving a frame. Running
// every send and receive of a round together is what keeps two parties that send each other
// large tensors from deadlocking on full socket buffers.
#pragma once

#include "net/frame.hpp"
#include "net/mesh.hpp"
#include "net/tls_channel.hpp"

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace net {

// want_time: a shaped link holds a received frame until the transfer's hold_until().
enum class Step { done, want_read, want_write, want_time };

class Transfer {
 public:
  explicit Transfer(TlsChannel& channel) : channel_(channel) {}
  virtual ~Transfer() = default;

  // Progresses as far as possible without blocking. Throws NetError on failure.
  virtual Step step() = 0;
  // What is still outstanding, for a timeout message ("frame payload: 100 of 4096 bytes").
  virtual std::string outstanding() const = 0;
  // Transfers on the same channel and lane run one after the other, in list order.
  enum class Lane { send, receive, both };
  virtual Lane lane() const = 0;
  // An optional transfer never holds up the end of a run and never times out.
  virtual bool optional() const { return false; }

  bool done() const { return done_; }
  TlsChannel& channel() const { return channel_; }
  std::uint64_t bytes_moved() const { return bytes_moved_; }
  std::chrono::steady_clock::time_point hold_until() const { return hold_until_; }

 protected:
  std::chrono::steady_clock::time_point hold_until_{};
  TlsChannel& channel_;
  bool done_ = false;
  std::uint64_t bytes_moved_ = 0;
};

class Handshake final : public Transfer {
 public:
  using Transfer::Transfer;
  Step step() override;
  std::string outstanding() const override { return "TLS handshake"; }
  Lane lane() const override { return Lane::both; }
};

// Sends one frame (header + payload, taking the channel's next sequence number) or, for tools and
// tests that speak the wire format themselves, raw bytes. The payload must outlive the transfer.
class SendBytes final : public Transfer {
 public:
  static SendBytes frame(TlsChannel& channel, std::span<const std::uint8_t> payload);
  static SendBytes raw(TlsChannel& channel, std::span<const std::uint8_t> bytes);
  Step step() override;
  std::string outstanding() const override;
  Lane lane() const override { return Lane::send; }
  std::uint64_t total_bytes() const { return staging_.size() + rest_.size(); }
  // The frame as accounted: header + payload (a shaped link's send-time stamp is not counted).
  std::uint64_t frame_bytes() const { return total_bytes() - stamp_bytes_; }

 private:
  SendBytes(TlsChannel& channel, Bytes staging, std::span<const std::uint8_t> rest, std::size_t stamp_bytes = 0);
  std::size_t stamp_bytes_ = 0;
  Bytes staging_;                      // the header and the start of the payload, so a small frame is one record
  std::span<const std::uint8_t> rest_; // the remainder, written straight from the caller's buffer
  std::size_t offset_ = 0;             // over staging_ then rest_
};

// Receives the next frame; keep-alive beats before it are consumed and reported to the channel.
class ReceiveFrame final : public Transfer {
 public:
  ReceiveFrame(TlsChannel& channel, std::uint64_t max_frame_bytes) : Transfer(channel), max_frame_bytes_(max_frame_bytes) {}
  Step step() override;
  std::string outstanding() const override;
  Lane lane() const override { return Lane::receive; }
  Bytes take_payload() { return std::move(payload_); }
  std::uint64_t total_bytes() const { return kFrameHeaderBytes + payload_.size(); }

 private:
  void accept_header();
  void accept_beat(const FrameHeader& header);
  Step hold_as_the_link_would();
  bool stamp_pending() const { return channel_.shaped() && stamp_received_ < kSendStampBytes; }
  std::uint64_t max_frame_bytes_;
  EncodedHeader header_{};
  std::size_t header_received_ = 0;
  bool header_accepted_ = false;
  Bytes payload_;
  std::size_t payload_received_ = 0;
  SendStamp stamp_{};
  std::size_t stamp_received_ = 0;
  bool held_ = false;
};

// While a run has no receive on a channel, consumes the keep-alive beats arriving on it, so that a
// party that only sends (or waits on another peer) still hears that this peer is alive. It stops
// at the first thing that is not a beat, leaving it for a later receive, and on any failure,
// which that receive will report.
class BeatWatcher final : public Transfer {
 public:
  using Transfer::Transfer;
  Step step() override;
  std::string outstanding() const override { return "watching for keep-alive beats"; }
  Lane lane() const override { return Lane::receive; }
  bool optional() const override { return true; }
};

// The frames a peer sent ahead of this party's receives, read into memory by ReadAhead: complete
// ones in order (a shaped link's may still be held until their delivery time) and at most one
// begun. A receive on the channel takes from here first.
struct FrameStash {
  std::deque<std::unique_ptr<ReceiveFrame>> ready;
  std::uint64_t ready_bytes = 0;
  std::unique_ptr<ReceiveFrame> partial;
  std::optional<std::string> failure;  // why reading ahead stopped on an error, for that receive to report

  // The next frame to receive: the oldest stashed one, the begun one, or a new one.
  std::unique_ptr<ReceiveFrame> next(TlsChannel& channel, std::uint64_t max_frame_bytes);
};

// While a run has no receive on a channel, reads the peer's next frames into its FrameStash, up to
// `budget` bytes, so that a peer that sends ahead (the 2PC dealer's keys) is not held back by this
// party's pace, and consumes beats like BeatWatcher. A frame is begun only once its header has
// arrived, so a peer that closes between frames is no error here; an error inside a frame stops
// the reading and is reported by the receive of that frame. Its bytes are not this run's progress.
class ReadAhead final : public Transfer {
 public:
  ReadAhead(TlsChannel& channel, FrameStash& stash, std::uint64_t max_frame_bytes, std::uint64_t budget)
      : Transfer(channel), stash_(stash), max_frame_bytes_(max_frame_bytes), budget_(budget) {}
  Step step() override;
  std::string outstanding() const override { return "reading ahead"; }
  Lane lane() const override { return Lane::receive; }
  bool optional() const override { return true; }

 private:
  Step stop();
  // Consumes beats; true once a frame's header is waiting, else sets `wait` (or stops).
  bool frame_waiting(Step& wait);
  FrameStash& stash_;
  std::uint64_t max_frame_bytes_;
  std::uint64_t budget_;
};

// Ends a channel without losing data in either direction: sends TLS close_notify, then reads and
// drops whatever the peer still sends (keep-alive beats) until the peer's own close_notify or the
// end of the connection. A socket closed with unread bytes is reset, and a reset can destroy data
// the peer has received but not yet read (the last frames a 2PC dealer sent P1); after this
// transfer nothing is left unread. Lasts until the peer closes too, or its run's time bound.
class LingeringClose final : public Transfer {
 public:
  using Transfer::Transfer;
  Step step() override;
  std::string outstanding() const override {
    return sent_ ? "waiting for the peer to close its end" : "sending close_notify";
  }
  Lane lane() const override { return Lane::both; }

 private:
  Step finish();
  bool sent_ = false;
};

// Runs the transfers until all but the optional ones are done. `patience` bounds the time without
// progress when `reset_on_progress`, or the total time otherwise. Progress is any frame byte moved
// in this run and, given a `progress` clock, what the clock says (which this run advances as it
// moves bytes). On failure or timeout the channels with unfinished transfers are marked broken and
// the error is rethrown.
void run_transfers(boost::asio::io_context& io, std::span<Transfer* const> transfers,
                   std::chrono::milliseconds patience, bool reset_on_progress, ProgressClock* progress = nullptr);

std::string format_seconds(std::chrono::milliseconds duration);

}  // namespace net
