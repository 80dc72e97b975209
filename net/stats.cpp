#include "net/stats.hpp"

#include "net/link_profile.hpp"

namespace net {

Counters& Counters::operator+=(const Counters& o) {
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  messages_sent += o.messages_sent;
  messages_received += o.messages_received;
  rounds += o.rounds;
  wire_bytes_sent += o.wire_bytes_sent;
  return *this;
}

void Stats::on_send(int peer, std::uint64_t bytes) {
  auto& c = per_peer_[phase_][peer];
  c.bytes_sent += bytes;
  c.wire_bytes_sent += wire_bytes_of_frame(bytes);
  ++c.messages_sent;
}

void Stats::on_receive(int peer, std::uint64_t bytes) {
  auto& c = per_peer_[phase_][peer];
  c.bytes_received += bytes;
  ++c.messages_received;
}

void Stats::on_round() { ++rounds_[phase_]; }

void Stats::on_wait(double seconds) { waits_[phase_] += seconds; }

double Stats::wait_seconds(const std::string& phase) const {
  auto it = waits_.find(phase);
  return it == waits_.end() ? 0.0 : it->second;
}

double Stats::total_wait_seconds() const {
  double total = 0;
  for (const auto& [phase, seconds] : waits_) total += seconds;
  return total;
}

std::map<int, Counters> Stats::sent_by_peer(const std::string& phase, bool only_phase) const {
  std::map<int, Counters> sent;
  for (const auto& [name, peers] : per_peer_)
    if ((name == phase) == only_phase)
      for (const auto& [peer, c] : peers) {
        sent[peer].bytes_sent += c.bytes_sent;
        sent[peer].wire_bytes_sent += c.wire_bytes_sent;
        sent[peer].messages_sent += c.messages_sent;
      }
  return sent;
}

std::uint64_t Stats::rounds(const std::string& phase) const {
  auto it = rounds_.find(phase);
  return it == rounds_.end() ? 0 : it->second;
}

Counters Stats::phase_total(const std::string& phase) const {
  Counters total;
  if (auto it = per_peer_.find(phase); it != per_peer_.end())
    for (const auto& [peer, c] : it->second) total += c;
  total.rounds = rounds(phase);
  return total;
}

Counters Stats::total() const {
  Counters total;
  for (const auto& [phase, peers] : per_peer_)
    for (const auto& [peer, c] : peers) total += c;
  for (const auto& [phase, r] : rounds_) total.rounds += r;
  return total;
}

namespace {
nlohmann::json counters_json(const Counters& c) {
  return {{"bytes_sent", c.bytes_sent},       {"bytes_received", c.bytes_received},
          {"messages_sent", c.messages_sent}, {"messages_received", c.messages_received},
          {"rounds", c.rounds}, {"wire_bytes_sent", c.wire_bytes_sent}};
}
}  // namespace

nlohmann::json Stats::to_json() const {
  nlohmann::json phases = nlohmann::json::object();
  std::map<std::string, bool> names;
  for (const auto& [phase, peers] : per_peer_) names[phase] = true;
  for (const auto& [phase, r] : rounds_) names[phase] = true;
  for (const auto& [phase, w] : waits_) names[phase] = true;
  for (const auto& [phase, unused] : names) {
    nlohmann::json peers = nlohmann::json::object();
    if (auto it = per_peer_.find(phase); it != per_peer_.end())
      for (const auto& [peer, c] : it->second) peers[std::to_string(peer)] = counters_json(c);
    phases[phase] = {{"total", counters_json(phase_total(phase))}, {"peers", peers}, {"wait_seconds", wait_seconds(phase)}};
  }
  return {{"phases", phases}, {"total", counters_json(total())}};
}

void Stats::reset() {
  per_peer_.clear();
  rounds_.clear();
  waits_.clear();
}

}  // namespace net
