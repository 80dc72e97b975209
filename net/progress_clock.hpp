// When this party last saw its protocol move, as spread by the keep-alive beats of the TLS mesh
// (tls_mesh.hpp). It advances when frame bytes move, while the party computes outside the mesh,
// and when a peer's beat reports that the peer's own latest progress is younger. A party waiting
// on a computing peer (or on a peer that waits on one) thus sees fresh progress, while in a true
// deadlock, everyone waiting inside the mesh, the age only grows until the I/O timeout fires.
// Shared by the mesh's caller thread and its beat thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>

namespace net {

class ProgressClock {
 public:
  using Clock = std::chrono::steady_clock;

  void mark_now() { advance_to(Clock::now()); }
  // A peer's beat says its latest progress is `age_ms` old.
  void mark_reported_age(std::uint64_t age_ms) { advance_to(Clock::now() - std::chrono::milliseconds(age_ms)); }

  Clock::time_point latest() const { return Clock::time_point(Clock::duration(latest_.load())); }
  std::uint64_t age_ms() const {
    const auto age = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - latest());
    return static_cast<std::uint64_t>(std::max<std::int64_t>(age.count(), 0));
  }

 private:
  // Never moves back: a stale report must not undo fresher progress.
  void advance_to(Clock::time_point when) {
    const Clock::rep ticks = when.time_since_epoch().count();
    Clock::rep seen = latest_.load();
    while (seen < ticks && !latest_.compare_exchange_weak(seen, ticks)) {
    }
  }

  std::atomic<Clock::rep> latest_{Clock::now().time_since_epoch().count()};
};

}  // namespace net
