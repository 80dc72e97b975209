#include "net/transfers.hpp"

#include <openssl/err.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <stdexcept>

namespace net {

namespace {

// The first TLS record of a frame carries the header and this much payload, so that a small
// frame costs one record, while the rest of a large payload goes to TLS straight from the caller.
constexpr std::size_t kStagingBytes = 16384;

enum class Outcome { progressed, want_read, want_write, closed };

// Before every SSL call: SSL_get_error() reads both the error queue and errno afterwards.
void clear_errors() {
  ERR_clear_error();
  errno = 0;
}

bool mentions_any(const std::string& text, std::initializer_list<const char*> markers) {
  for (const char* marker : markers)
    if (text.find(marker) != std::string::npos) return true;
  return false;
}

std::string hint_for(const std::string& detail) {
  if (mentions_any(detail, {"wrong version number", "http request", "packet length too long", "record layer failure"}))
    return " (the peer does not speak TLS?)";
  if (mentions_any(detail, {"alert unknown ca", "alert certificate expired", "alert bad certificate",
                            "alert certificate required", "alert certificate unknown", "alert decrypt error"}))
    return " (the peer rejected this party's certificate)";
  return "";
}

std::string describe_errno(int error) {
  const std::string text = std::strerror(error);
  return error == EPIPE || error == ECONNRESET ? "the peer closed the connection (" + text + ")" : text;
}

std::string verify_context(const TlsChannel& channel) {
  const VerifyNotes& notes = channel.verify_notes();
  std::string text;
  if (!notes.failure.empty()) text += "; certificate rejected: " + notes.failure;
  if (!notes.presented_name.empty()) text += "; peer certificate names '" + notes.presented_name + "'";
  return text;
}

// Classifies the result of an SSL call; throws for every real failure. What the certificate check
// saw is only worth reporting while the peer is not yet authenticated.
Outcome classify(TlsChannel& channel, int ret, const char* action) {
  const int saved_errno = errno;
  const std::string notes = SSL_is_init_finished(channel.ssl()) ? std::string() : verify_context(channel);
  switch (SSL_get_error(channel.ssl(), ret)) {
    case SSL_ERROR_NONE: return Outcome::progressed;
    case SSL_ERROR_WANT_READ: return Outcome::want_read;
    case SSL_ERROR_WANT_WRITE: return Outcome::want_write;
    case SSL_ERROR_ZERO_RETURN: return Outcome::closed;
    case SSL_ERROR_SYSCALL: {
      std::string detail = ossl::drain_errors();
      if (saved_errno == 0 && detail.empty()) return Outcome::closed;
      if (saved_errno != 0) detail = describe_errno(saved_errno) + (detail.empty() ? "" : "; " + detail);
      channel.fail(action, detail + notes);
    }
    default: {
      const std::string detail = ossl::drain_errors();
      channel.fail(action, (detail.empty() ? std::string("TLS error") : detail) + hint_for(detail) + notes);
    }
  }
}

Step to_step(Outcome outcome) { return outcome == Outcome::want_write ? Step::want_write : Step::want_read; }

std::string hex32(std::uint32_t value) {
  char text[16];
  std::snprintf(text, sizeof text, "0x%08x", value);
  return text;
}

}  // namespace

std::string format_seconds(std::chrono::milliseconds duration) {
  char text[32];
  std::snprintf(text, sizeof text, "%g s", static_cast<double>(duration.count()) / 1000.0);
  return text;
}

Step Handshake::step() {
  clear_errors();
  const int ret = SSL_do_handshake(channel_.ssl());
  if (ret == 1) {
    done_ = true;
    return Step::done;
  }
  const Outcome outcome = classify(channel_, ret, "TLS handshake with");
  if (outcome == Outcome::closed)
    channel_.fail("TLS handshake with", "the connection was closed during the handshake" + verify_context(channel_));
  return to_step(outcome);
}

SendBytes::SendBytes(TlsChannel& channel, Bytes staging, std::span<const std::uint8_t> rest, std::size_t stamp_bytes)
    : Transfer(channel), stamp_bytes_(stamp_bytes), staging_(std::move(staging)), rest_(rest) {}

SendBytes SendBytes::frame(TlsChannel& channel, std::span<const std::uint8_t> payload) {
  const EncodedHeader header = encode_header({kFrameMagic, channel.take_send_sequence(), payload.size()});
  const std::size_t stamp_bytes = channel.shaped() ? kSendStampBytes : 0;
  const std::size_t head = std::min(payload.size(), kStagingBytes - kFrameHeaderBytes - stamp_bytes);
  Bytes staging(header.begin(), header.end());
  if (channel.shaped()) {
    const auto sent = std::chrono::system_clock::now().time_since_epoch();
    const SendStamp stamp = encode_send_stamp(std::chrono::duration_cast<std::chrono::nanoseconds>(sent).count());
    staging.insert(staging.end(), stamp.begin(), stamp.end());
  }
  staging.insert(staging.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(head));
  return SendBytes(channel, std::move(staging), payload.subspan(head), stamp_bytes);
}

SendBytes SendBytes::raw(TlsChannel& channel, std::span<const std::uint8_t> bytes) {
  return SendBytes(channel, Bytes{}, bytes);
}

Step SendBytes::step() {
  channel_.set_frame_in_progress(true);
  while (offset_ < total_bytes()) {
    const bool in_staging = offset_ < staging_.size();
    const std::uint8_t* data = in_staging ? staging_.data() + offset_ : rest_.data() + (offset_ - staging_.size());
    const std::size_t length = in_staging ? staging_.size() - offset_ : total_bytes() - offset_;
    std::size_t written = 0;
    clear_errors();
    const int ret = SSL_write_ex(channel_.ssl(), data, length, &written);
    if (ret == 1) {
      offset_ += written;
      bytes_moved_ += written;
      continue;
    }
    const Outcome outcome = classify(channel_, ret, "sending to");
    if (outcome == Outcome::closed) channel_.fail("sending to", "the peer closed the connection");
    return to_step(outcome);
  }
  // The socket BIO batches records; the frame is only sent once its last bytes have left it.
  clear_errors();
  if (BIO* wire = SSL_get_wbio(channel_.ssl()); BIO_flush(wire) <= 0) {
    const int saved_errno = errno;
    if (BIO_should_retry(wire)) return Step::want_write;
    channel_.fail("sending to", describe_errno(saved_errno));
  }
  channel_.set_frame_in_progress(false);
  done_ = true;
  return Step::done;
}

std::string SendBytes::outstanding() const {
  return "sending a frame: " + std::to_string(offset_) + " of " + std::to_string(total_bytes()) + " bytes written";
}

void ReceiveFrame::accept_header() {
  const FrameHeader header = decode_header(header_);
  if (is_beat(header)) return accept_beat(header);
  if (header.magic != kFrameMagic)
    channel_.fail("receiving from", "bad frame magic " + hex32(header.magic) + " (expected " + hex32(kFrameMagic) +
                                        "): not an mpcache frame or the stream is corrupt");
  const std::uint64_t expected = channel_.expected_receive_sequence();
  if (header.sequence < expected)
    channel_.fail("receiving from", "replayed frame: sequence " + std::to_string(header.sequence) +
                                        " was already received (expected " + std::to_string(expected) + ")");
  if (header.sequence > expected)
    channel_.fail("receiving from", "out-of-order frame: sequence " + std::to_string(header.sequence) + ", expected " +
                                        std::to_string(expected) + " (frames were dropped or reordered)");
  if (header.length > max_frame_bytes_)
    channel_.fail("receiving from", "frame length " + std::to_string(header.length) + " bytes exceeds the limit of " +
                                        std::to_string(max_frame_bytes_) + " bytes");
  channel_.advance_receive_sequence();
  payload_.resize(header.length);
  header_accepted_ = true;
  bytes_moved_ += kFrameHeaderBytes;
}

// A beat is not progress of this frame: its bytes are not counted and the header starts afresh.
void ReceiveFrame::accept_beat(const FrameHeader& header) {
  if (header.length != 0)
    channel_.fail("receiving from", "malformed keep-alive beat with length " + std::to_string(header.length) +
                                        ": the stream is corrupt");
  channel_.note_beat(header.sequence);
  header_received_ = 0;
}

Step ReceiveFrame::step() {
  if (held_) return hold_as_the_link_would();
  while (!header_accepted_ || stamp_pending() || payload_received_ < payload_.size()) {
    std::uint8_t* data = nullptr;
    std::size_t wanted = 0;
    std::size_t* received = nullptr;
    if (!header_accepted_) {
      data = header_.data() + header_received_, wanted = kFrameHeaderBytes - header_received_, received = &header_received_;
    } else if (stamp_pending()) {
      data = stamp_.data() + stamp_received_, wanted = kSendStampBytes - stamp_received_, received = &stamp_received_;
    } else {
      data = payload_.data() + payload_received_, wanted = payload_.size() - payload_received_, received = &payload_received_;
    }
    std::size_t got = 0;
    clear_errors();
    const int ret = SSL_read_ex(channel_.ssl(), data, wanted, &got);
    if (ret == 1) {
      *received += got;
      if (!header_accepted_) {
        // Header bytes count once accept_header() knows they are a frame's, not a beat's.
        if (header_received_ == kFrameHeaderBytes) accept_header();
      } else {
        bytes_moved_ += got;
      }
      continue;
    }
    const Outcome outcome = classify(channel_, ret, "receiving from");
    if (outcome != Outcome::closed) return to_step(outcome);
    if (header_received_ == 0) channel_.fail("receiving from", "the peer closed the connection");
    channel_.fail("receiving from", "truncated frame: the connection ended after " + outstanding());
  }
  if (channel_.shaped()) {
    held_ = true;
    const auto now = std::chrono::system_clock::now();
    // A sender's clock ahead of this one must not hold the frame longer than the link itself would.
    using SystemClock = std::chrono::system_clock;
    const SystemClock::time_point stamped(
        std::chrono::duration_cast<SystemClock::duration>(std::chrono::nanoseconds(decode_send_stamp(stamp_))));
    const SystemClock::time_point delivery = channel_.incoming_link().delivery(std::min(now, stamped), total_bytes());
    const auto hold = std::max(delivery - now, SystemClock::duration::zero());
    hold_until_ = std::chrono::steady_clock::now() + std::chrono::duration_cast<std::chrono::steady_clock::duration>(hold);
    return hold_as_the_link_would();
  }
  done_ = true;
  return Step::done;
}

Step ReceiveFrame::hold_as_the_link_would() {
  if (std::chrono::steady_clock::now() < hold_until_) return Step::want_time;
  done_ = true;
  return Step::done;
}

namespace {
enum class AfterBeats { frame, partial_header, want_read, want_write, other };

// Consumes (and reports) the keep-alive beats waiting on the channel and says what follows them.
AfterBeats consume_beats(TlsChannel& channel) {
  for (;;) {
    EncodedHeader next{};
    std::size_t got = 0;
    clear_errors();
    if (SSL_peek_ex(channel.ssl(), next.data(), next.size(), &got) != 1) {
      const int error = SSL_get_error(channel.ssl(), 0);
      if (error == SSL_ERROR_WANT_READ) return AfterBeats::want_read;
      if (error == SSL_ERROR_WANT_WRITE) return AfterBeats::want_write;
      return AfterBeats::other;
    }
    if (got < next.size()) return AfterBeats::partial_header;
    const FrameHeader header = decode_header(next);
    if (!is_beat(header)) return AfterBeats::frame;
    if (header.length != 0) return AfterBeats::other;  // malformed: a receive reports it
    SSL_read_ex(channel.ssl(), next.data(), next.size(), &got);  // the peeked bytes, already decrypted
    channel.note_beat(header.sequence);
  }
}
}  // namespace

Step BeatWatcher::step() {
  const AfterBeats after = consume_beats(channel_);
  if (after == AfterBeats::want_read) return Step::want_read;
  if (after == AfterBeats::want_write) return Step::want_write;
  clear_errors();
  done_ = true;
  return Step::done;
}

std::unique_ptr<ReceiveFrame> FrameStash::next(TlsChannel& channel, std::uint64_t max_frame_bytes) {
  if (!ready.empty()) {
    std::unique_ptr<ReceiveFrame> frame = std::move(ready.front());
    ready.pop_front();
    ready_bytes -= frame->total_bytes();
    return frame;
  }
  if (failure) {
    channel.mark_broken(*failure);
    throw NetError(*failure);
  }
  if (partial) return std::move(partial);
  return std::make_unique<ReceiveFrame>(channel, max_frame_bytes);
}

Step ReadAhead::stop() {
  clear_errors();
  done_ = true;
  return Step::done;
}

bool ReadAhead::frame_waiting(Step& wait) {
  switch (consume_beats(channel_)) {
    case AfterBeats::frame: return true;
    case AfterBeats::partial_header:  // the rest of the header is on its way
    case AfterBeats::want_read: wait = Step::want_read; return false;
    case AfterBeats::want_write: wait = Step::want_write; return false;
    case AfterBeats::other: break;
  }
  wait = stop();
  return false;
}

Step ReadAhead::step() {
  for (;;) {
    if (!stash_.partial) {
      if (stash_.failure || stash_.ready_bytes >= budget_) return stop();
      Step wait = Step::done;
      if (!frame_waiting(wait)) return wait;
      stash_.partial = std::make_unique<ReceiveFrame>(channel_, max_frame_bytes_);
    }
    Step step = Step::done;
    try {
      step = stash_.partial->step();
    } catch (const NetError& e) {
      stash_.failure = e.what();
      stash_.partial.reset();
      return stop();
    }
    if (step == Step::want_read || step == Step::want_write) return step;
    // The whole frame is in (done, or want_time: held until the link would have delivered it).
    stash_.ready_bytes += stash_.partial->total_bytes();
    stash_.ready.push_back(std::move(stash_.partial));
  }
}

Step LingeringClose::finish() {
  clear_errors();
  done_ = true;
  return Step::done;
}

Step LingeringClose::step() {
  SSL* ssl = channel_.ssl();
  if (!sent_) {
    clear_errors();
    const int shut = SSL_shutdown(ssl);
    if (shut < 0) {
      const int error = SSL_get_error(ssl, shut);
      if (error == SSL_ERROR_WANT_WRITE) return Step::want_write;
      if (error == SSL_ERROR_WANT_READ) return Step::want_read;
      return finish();  // the connection is gone: nothing left to lose
    }
    sent_ = true;
    if (shut == 1) return finish();  // the peer's close_notify had already arrived
  }
  std::array<std::uint8_t, 16384> discarded{};
  for (;;) {
    std::size_t got = 0;
    clear_errors();
    if (SSL_read_ex(ssl, discarded.data(), discarded.size(), &got) == 1) {
      bytes_moved_ += got;
      continue;
    }
    const int error = SSL_get_error(ssl, 0);
    if (error == SSL_ERROR_WANT_READ) return Step::want_read;
    if (error == SSL_ERROR_WANT_WRITE) return Step::want_write;
    return finish();  // the peer's close_notify, or the end of the connection
  }
}

std::string ReceiveFrame::outstanding() const {
  if (!header_accepted_)
    return std::to_string(header_received_) + " of " + std::to_string(kFrameHeaderBytes) + " frame header bytes";
  if (held_) return "a received frame held by the link emulation";
  return std::to_string(payload_received_) + " of " + std::to_string(payload_.size()) + " frame payload bytes";
}

namespace {

bool blocked_by_earlier(std::span<Transfer* const> transfers, std::size_t index) {
  const Transfer* t = transfers[index];
  for (std::size_t i = 0; i < index; ++i) {
    const Transfer* earlier = transfers[i];
    if (earlier->done() || &earlier->channel() != &t->channel()) continue;
    if (earlier->lane() == t->lane() || earlier->lane() == Transfer::Lane::both || t->lane() == Transfer::Lane::both)
      return true;
  }
  return false;
}

Step step_locked(Transfer& t) {
  std::lock_guard lock(t.channel().ssl_lock());
  return t.step();
}

// One pass over every runnable transfer that is `optional` or not. Returns true when all of them
// are done afterwards; otherwise every unfinished one is either waiting on its socket or queued
// behind one that is.
bool sweep_pass(std::span<Transfer* const> transfers, bool optional, std::uint64_t& bytes_moved,
                std::chrono::steady_clock::time_point& latest_hold) {
  bool all_done = true;
  for (std::size_t i = 0; i < transfers.size(); ++i) {
    Transfer* t = transfers[i];
    if (t->done() || t->optional() != optional) continue;
    if (blocked_by_earlier(transfers, i)) {
      all_done = false;
      continue;
    }
    const std::uint64_t before = t->bytes_moved();
    const Step step = step_locked(*t);
    bytes_moved += t->bytes_moved() - before;
    if (step == Step::done) continue;
    all_done = false;
    if (step == Step::want_time) {
      t->channel().await_time(t->hold_until());
      latest_hold = std::max(latest_hold, t->hold_until());
      continue;
    }
    t->channel().await(step == Step::want_read ? IoWant::read : IoWant::write);
  }
  return all_done;
}

// Returns true when every transfer that is not optional is done; the optional ones only run
// while some other one is still outstanding.
bool sweep(std::span<Transfer* const> transfers, std::uint64_t& bytes_moved,
           std::chrono::steady_clock::time_point& latest_hold) {
  if (sweep_pass(transfers, false, bytes_moved, latest_hold)) return true;
  sweep_pass(transfers, true, bytes_moved, latest_hold);
  return false;
}

// When a run gives up: `patience` after its start or, when it resets on progress, after its latest
// progress: a byte moved in this run or what the shared progress clock says. Never sooner than
// `patience` after the delivery of a frame held by the link emulation, which is not a stalled peer.
class Deadline {
 public:
  using Clock = std::chrono::steady_clock;
  Deadline(std::chrono::milliseconds patience, bool reset_on_progress, ProgressClock* shared)
      : patience_(patience), reset_on_progress_(reset_on_progress), shared_(shared) {}

  void after_sweep(bool moved, Clock::time_point latest_hold) {
    if (moved && reset_on_progress_) last_byte_ = Clock::now();
    if (moved && shared_) shared_->mark_now();
    latest_hold_ = std::max(latest_hold_, latest_hold);
  }
  Clock::time_point when() const {
    Clock::time_point progress = last_byte_;
    if (reset_on_progress_ && shared_) progress = std::max(progress, shared_->latest());
    return std::max(progress, latest_hold_) + patience_;
  }
  bool passed() const { return Clock::now() >= when(); }

 private:
  std::chrono::milliseconds patience_;
  bool reset_on_progress_;
  ProgressClock* shared_;
  Clock::time_point last_byte_ = Clock::now();  // the start until a byte moves
  Clock::time_point latest_hold_{};
};

[[noreturn]] void time_out(std::span<Transfer* const> transfers, std::chrono::milliseconds patience, bool reset) {
  for (Transfer* t : transfers)
    if (!t->done() && !t->optional())
      t->channel().fail("waiting for", std::string(reset ? "no progress for " : "not finished within ") +
                                           format_seconds(patience) + " (" + t->outstanding() + ")");
  throw std::logic_error("run_transfers timed out with every transfer finished");
}

// Cancels the waits of the unfinished transfers and runs the cancelled handlers now, so that no
// stale wait is left registered on a socket.
void cancel_unfinished(boost::asio::io_context& io, std::span<Transfer* const> transfers) {
  bool cancelled = false;
  for (Transfer* t : transfers) {
    if (t->done() || !t->channel().has_pending_waits()) continue;
    t->channel().cancel_waits();
    cancelled = true;
  }
  if (!cancelled) return;
  io.restart();
  io.poll();
}

void abandon(boost::asio::io_context& io, std::span<Transfer* const> transfers, const std::string& reason) {
  for (Transfer* t : transfers)
    if (!t->done() && !t->optional()) t->channel().mark_broken(reason);
  cancel_unfinished(io, transfers);
}

}  // namespace

void run_transfers(boost::asio::io_context& io, std::span<Transfer* const> transfers,
                   std::chrono::milliseconds patience, bool reset_on_progress, ProgressClock* progress) {
  for (Transfer* t : transfers)
    if (!t->optional()) t->channel().throw_if_broken();
  Deadline deadline(patience, reset_on_progress, progress);
  try {
    for (;;) {
      std::uint64_t moved = 0;
      Deadline::Clock::time_point latest_hold{};
      if (sweep(transfers, moved, latest_hold)) return cancel_unfinished(io, transfers);
      deadline.after_sweep(moved > 0, latest_hold);
      if (io.stopped()) io.restart();
      if (io.run_one_until(deadline.when()) == 0 && deadline.passed()) time_out(transfers, patience, reset_on_progress);
    }
  } catch (const std::exception& e) {
    abandon(io, transfers, e.what());
    throw;
  }
}

}  // namespace net
