// Time, traffic and rounds per operator class ("attention.softmax", "linear", ...), so a decode
// step can be broken down and the next optimisation chosen from data.
//
// Scopes nest; each class is charged exclusively: a scope's figures exclude those of the scopes
// opened inside it, so the classes of a step add up to (at most) the step. Time is this party's
// wall clock. Bytes are this party's sends, split into online traffic and the 2PC dealer's
// offline traffic (the phase named kOfflinePhase).
#pragma once

#include "net/stats.hpp"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace net {

inline constexpr const char* kOfflinePhase = "offline";

struct ProfileFigures {
  double seconds = 0;
  std::uint64_t online_bytes_sent = 0;
  std::uint64_t offline_bytes_sent = 0;
  std::uint64_t rounds = 0;
  std::uint64_t calls = 0;
  double wait_seconds = 0;          // blocked in the network (any phase)
  double offline_wait_seconds = 0;  // of which waiting for the 2PC dealer's stream

  ProfileFigures& operator+=(const ProfileFigures& o);
  ProfileFigures& operator-=(const ProfileFigures& o);
  nlohmann::json to_json() const;
};

// This party's cumulative sends, split into online and offline (kOfflinePhase) bytes, rounds and
// network waits; seconds and calls are 0. The difference of two readings is the traffic in between.
ProfileFigures traffic_totals(const Stats& stats);

class OperatorProfile {
 public:
  explicit OperatorProfile(const Stats& stats) : stats_(stats) {}

  void enter(std::string operator_class);
  void leave();

  // Exclusive figures per class since the last reset().
  const std::map<std::string, ProfileFigures>& classes() const { return classes_; }
  nlohmann::json to_json() const;
  void reset() { classes_.clear(); }

 private:
  struct Frame {
    std::string name;
    ProfileFigures start;     // counters when the scope opened (cumulative)
    ProfileFigures children;  // inclusive figures of the scopes nested in it
  };
  ProfileFigures now() const;

  const Stats& stats_;
  std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  std::vector<Frame> open_;
  std::map<std::string, ProfileFigures> classes_;
};

// Charges everything done during its lifetime (minus nested scopes) to one operator class.
class ProfileScope {
 public:
  ProfileScope(OperatorProfile& profile, std::string operator_class) : profile_(profile) {
    profile_.enter(std::move(operator_class));
  }
  ~ProfileScope() { profile_.leave(); }
  ProfileScope(const ProfileScope&) = delete;
  ProfileScope& operator=(const ProfileScope&) = delete;

 private:
  OperatorProfile& profile_;
};

}  // namespace net
