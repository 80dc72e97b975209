#include "net/tls_mesh.hpp"

#include "net/channel_factory.hpp"
#include "net/transfers.hpp"

#include <boost/asio/io_context.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

namespace net {

namespace {

class TlsMesh final : public Mesh {
 public:
  TlsMesh(const PartiesConfig& cfg, int self, const MeshOptions& opts);
  ~TlsMesh() override;

  int self() const override { return self_; }
  int size() const override { return static_cast<int>(channels_.size()); }
  void send(int peer, std::span<const std::uint8_t> payload) override;
  Bytes recv(int peer) override;
  std::vector<Bytes> exchange(std::span<const Outgoing> out, std::span<const int> from) override;

 private:
  TlsChannel& channel(int peer);
  void run(std::span<Transfer* const> transfers);
  // The transfers plus, on every usable channel they do not receive on, a reader that reads ahead
  // (or, without read-ahead, consumes beats).
  std::vector<Transfer*> with_idle_readers(std::span<Transfer* const> transfers, std::deque<BeatWatcher>& watchers,
                                           std::deque<ReadAhead>& readers);
  std::unique_ptr<ReceiveFrame> next_frame(int peer);
  std::string other_closed_peers(const std::string& failure) const;
  void close_every_channel() noexcept;
  void start_beating();
  void stop_beating();
  void beat_until_stopped();
  void beat_every_peer();

  // Declared first so that it is destroyed last, after every socket registered with it.
  boost::asio::io_context io_;
  int self_;
  MeshOptions opts_;
  std::vector<std::unique_ptr<TlsChannel>> channels_;
  std::vector<FrameStash> stashes_;  // per peer: frames read ahead

  ProgressClock progress_;
  std::atomic<bool> in_run_{false};  // whether the caller is inside the mesh rather than computing
  std::mutex beat_mutex_;
  std::condition_variable beat_wake_;
  bool stopping_ = false;
  std::thread beat_thread_;
};

// Marks the caller as inside the mesh for a scope; entering and leaving are progress.
class RunScope {
 public:
  RunScope(std::atomic<bool>& in_run, ProgressClock& progress) : in_run_(in_run), progress_(progress) {
    progress_.mark_now();
    in_run_ = true;
  }
  ~RunScope() {
    progress_.mark_now();
    in_run_ = false;
  }
  RunScope(const RunScope&) = delete;
  RunScope& operator=(const RunScope&) = delete;

 private:
  std::atomic<bool>& in_run_;
  ProgressClock& progress_;
};

bool receives_on(std::span<Transfer* const> transfers, const TlsChannel& channel) {
  return std::any_of(transfers.begin(), transfers.end(), [&](const Transfer* t) {
    return &t->channel() == &channel && t->lane() != Transfer::Lane::send;
  });
}

TlsMesh::TlsMesh(const PartiesConfig& cfg, int self, const MeshOptions& opts) : self_(self), opts_(opts) {
  if (self < 0 || self >= cfg.size())
    throw ConfigError("party id " + std::to_string(self) + " is not in the parties config (0.." +
                      std::to_string(cfg.size() - 1) + ")");
  const auto deadline = ChannelFactory::Clock::now() + opts.connect_timeout;
  ChannelFactory factory(io_, cfg, self, opts);
  channels_.resize(static_cast<std::size_t>(cfg.size()));
  stashes_.resize(static_cast<std::size_t>(cfg.size()));
  // Dial lower ids before accepting higher ones: every party finishes its dialling before it
  // accepts, so the waits form a chain towards party 0 and can never be circular.
  for (int peer = 0; peer < self; ++peer) channels_[peer] = factory.dial(peer, deadline);
  factory.accept_higher(channels_, deadline);
  for (auto& c : channels_)
    if (c) {
      c->set_stats(&stats_);
      c->set_progress(&progress_);
    }
  spdlog::info("party {}: mesh of {} parties ready, network {}", self_, cfg.size(), opts.link.describe());
  start_beating();  // last: nothing may throw once the thread runs
}

TlsMesh::~TlsMesh() {
  stop_beating();  // before any channel closes
  close_every_channel();
  spdlog::debug("party {}: closed the mesh", self_);
}

// Every healthy channel ends with a lingering close, all at once (transfers.hpp: LingeringClose),
// so that a party that finishes first (the 2PC dealer only sends) cannot reset a connection whose
// last frames its peer has not read yet. Bounded by io_timeout; a failure only means the peer is
// gone, and is logged.
void TlsMesh::close_every_channel() noexcept {
  try {
    std::deque<LingeringClose> closes;
    std::vector<Transfer*> all;
    for (auto& c : channels_)
      if (c && !c->broken()) all.push_back(&closes.emplace_back(*c));
    if (!all.empty()) run_transfers(io_, all, opts_.io_timeout, false);
  } catch (const std::exception& e) {
    spdlog::debug("party {}: closing the mesh: {}", self_, e.what());
  }
}

void TlsMesh::start_beating() {
  beat_thread_ = std::thread([this] { beat_until_stopped(); });
}

void TlsMesh::stop_beating() {
  {
    std::lock_guard lock(beat_mutex_);
    stopping_ = true;
  }
  beat_wake_.notify_all();
  if (beat_thread_.joinable()) beat_thread_.join();
}

void TlsMesh::beat_until_stopped() {
  const auto interval = effective_beat_interval(opts_);
  std::unique_lock lock(beat_mutex_);
  while (!beat_wake_.wait_for(lock, interval, [this] { return stopping_; })) {
    lock.unlock();
    beat_every_peer();
    lock.lock();
  }
}

void TlsMesh::beat_every_peer() {
  // While the caller computes outside the mesh, the protocol is not stuck on this party.
  if (!in_run_) progress_.mark_now();
  const std::uint64_t age_ms = progress_.age_ms();
  for (auto& c : channels_)
    if (c) c->beat(age_ms);
}

// Runs the transfers and charges the time they took to the current phase's network wait. A failure
// on one channel is often the echo of a peer that died earlier (its other peers fail too and
// leave): the message says which other connections had closed as well.
void TlsMesh::run(std::span<Transfer* const> transfers) {
  const auto start = std::chrono::steady_clock::now();
  const RunScope inside(in_run_, progress_);
  std::deque<BeatWatcher> watchers;
  std::deque<ReadAhead> readers;
  const std::vector<Transfer*> all = with_idle_readers(transfers, watchers, readers);
  try {
    run_transfers(io_, all, opts_.io_timeout, true, &progress_);
    stats_.on_wait(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  } catch (const NetError& e) {
    const std::string also = other_closed_peers(e.what());
    if (also.empty()) throw;
    throw NetError(std::string(e.what()) + " (" + also + ")");
  }
}

std::vector<Transfer*> TlsMesh::with_idle_readers(std::span<Transfer* const> transfers, std::deque<BeatWatcher>& watchers,
                                                  std::deque<ReadAhead>& readers) {
  std::vector<Transfer*> all(transfers.begin(), transfers.end());
  for (std::size_t peer = 0; peer < channels_.size(); ++peer) {
    TlsChannel* c = channels_[peer].get();
    if (!c || c->broken() || receives_on(transfers, *c)) continue;
    if (opts_.read_ahead_bytes > 0)
      all.push_back(&readers.emplace_back(*c, stashes_[peer], opts_.max_frame_bytes, opts_.read_ahead_bytes));
    else
      all.push_back(&watchers.emplace_back(*c));
  }
  return all;
}

std::unique_ptr<ReceiveFrame> TlsMesh::next_frame(int peer) {
  TlsChannel& c = channel(peer);
  return stashes_[static_cast<std::size_t>(peer)].next(c, opts_.max_frame_bytes);
}

std::string TlsMesh::other_closed_peers(const std::string& failure) const {
  std::string closed;
  for (const auto& c : channels_) {
    if (!c || failure.find(c->peer_label() + " failed") != std::string::npos) continue;
    if (c->peer_has_closed()) closed += (closed.empty() ? "" : " and ") + c->peer_label();
  }
  return closed.empty() ? "" : "the connection to " + closed + " had closed as well";
}

TlsChannel& TlsMesh::channel(int peer) {
  if (peer < 0 || peer >= size() || peer == self_)
    throw std::invalid_argument("party " + std::to_string(self_) + ": no channel to party " + std::to_string(peer) +
                                " (mesh of " + std::to_string(size()) + ")");
  return *channels_[static_cast<std::size_t>(peer)];
}

void TlsMesh::send(int peer, std::span<const std::uint8_t> payload) {
  TlsChannel& c = channel(peer);
  c.throw_if_broken();
  SendBytes transfer = SendBytes::frame(c, payload);
  Transfer* transfers[] = {&transfer};
  run(transfers);
  stats_.on_send(peer, transfer.frame_bytes());
}

Bytes TlsMesh::recv(int peer) {
  const std::unique_ptr<ReceiveFrame> frame = next_frame(peer);
  Transfer* transfers[] = {frame.get()};
  run(transfers);  // also for a stashed frame: a shaped link may still hold it
  stats_.on_receive(peer, frame->total_bytes());
  return frame->take_payload();
}

std::vector<Bytes> TlsMesh::exchange(std::span<const Outgoing> out, std::span<const int> from) {
  // Validate every peer before taking sequence numbers, so a bad argument leaves channels intact.
  for (const Outgoing& o : out) channel(o.peer).throw_if_broken();
  for (int peer : from) channel(peer).throw_if_broken();
  std::deque<SendBytes> sends;  // a deque keeps the transfers at stable addresses
  std::vector<std::unique_ptr<ReceiveFrame>> receives;
  std::vector<Transfer*> transfers;
  for (const Outgoing& o : out) transfers.push_back(&sends.emplace_back(SendBytes::frame(channel(o.peer), o.payload)));
  for (int peer : from) transfers.push_back(receives.emplace_back(next_frame(peer)).get());
  run(transfers);
  for (std::size_t i = 0; i < out.size(); ++i) stats_.on_send(out[i].peer, sends[i].frame_bytes());
  std::vector<Bytes> received;
  received.reserve(from.size());
  for (std::size_t i = 0; i < from.size(); ++i) {
    stats_.on_receive(from[i], receives[i]->total_bytes());
    received.push_back(receives[i]->take_payload());
  }
  stats_.on_round();
  return received;
}

}  // namespace

std::chrono::milliseconds effective_beat_interval(const MeshOptions& opts) {
  using std::chrono::milliseconds;
  if (opts.beat_interval > milliseconds::zero()) return opts.beat_interval;
  return std::clamp<milliseconds>(opts.io_timeout / 4, milliseconds(10), milliseconds(10000));
}

std::unique_ptr<Mesh> connect_tls_mesh(const PartiesConfig& cfg, int self, const MeshOptions& opts) {
  return std::make_unique<TlsMesh>(cfg, self, opts);
}

}  // namespace net
