// Communication accounting: bytes, messages and rounds per named phase and per peer.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>

namespace net {

struct Counters {
  std::uint64_t bytes_sent = 0;
  std::uint64_t bytes_received = 0;
  std::uint64_t messages_sent = 0;
  std::uint64_t messages_received = 0;
  std::uint64_t rounds = 0;
  // What the sent frames occupy on the wire with TLS record overhead (link_profile.hpp).
  std::uint64_t wire_bytes_sent = 0;

  Counters& operator+=(const Counters& o);
};

class Stats {
 public:
  const std::string& phase() const { return phase_; }
  void set_phase(std::string phase) { phase_ = std::move(phase); }

  void on_send(int peer, std::uint64_t bytes);
  void on_receive(int peer, std::uint64_t bytes);
  void on_round();
  // Time this party spent blocked in the network (sending, receiving, held by link emulation).
  void on_wait(double seconds);

  // Totals over peers for one phase, or over everything.
  Counters phase_total(const std::string& phase) const;
  Counters total() const;
  const std::map<std::string, std::map<int, Counters>>& by_phase_and_peer() const { return per_peer_; }
  std::uint64_t rounds(const std::string& phase) const;
  double wait_seconds(const std::string& phase) const;
  double total_wait_seconds() const;
  // Bytes, wire bytes and messages this party sent to each peer, over the phases named
  // `phase` (only_phase) or over every other phase (!only_phase).
  std::map<int, Counters> sent_by_peer(const std::string& phase, bool only_phase) const;

  nlohmann::json to_json() const;
  void reset();

 private:
  std::string phase_ = "setup";
  std::map<std::string, std::map<int, Counters>> per_peer_;
  std::map<std::string, std::uint64_t> rounds_;
  std::map<std::string, double> waits_;
};

// Sets the phase for a scope and restores the previous one on exit.
class PhaseScope {
 public:
  PhaseScope(Stats& stats, std::string phase) : stats_(stats), previous_(stats.phase()) {
    stats_.set_phase(std::move(phase));
  }
  ~PhaseScope() { stats_.set_phase(previous_); }
  PhaseScope(const PhaseScope&) = delete;
  PhaseScope& operator=(const PhaseScope&) = delete;

 private:
  Stats& stats_;
  std::string previous_;
};

}  // namespace net
