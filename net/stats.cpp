#include "net/stats.hpp"

namespace net {

Counters& Counters::operator+=(const Counters& o) {
  bytes_sent += o.bytes_sent;
  bytes_received += o.bytes_received;
  messages_sent += o.messages_sent;
  messages_received += o.messages_received;
  rounds += o.rounds;
  return *this;
}

void Stats::on_send(int peer, std::uint64_t bytes) {
  auto& c = per_peer_[phase_][peer];
  c.bytes_sent += bytes;
  ++c.messages_sent;
}

void Stats::on_receive(int peer, std::uint64_t bytes) {
  auto& c = per_peer_[phase_][peer];
  c.bytes_received += bytes;
  ++c.messages_received;
}

void Stats::on_round() { ++rounds_[phase_]; }

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
          {"rounds", c.rounds}};
}
}  // namespace

nlohmann::json Stats::to_json() const {
  nlohmann::json phases = nlohmann::json::object();
  std::map<std::string, bool> names;
  for (const auto& [phase, peers] : per_peer_) names[phase] = true;
  for (const auto& [phase, r] : rounds_) names[phase] = true;
  for (const auto& [phase, unused] : names) {
    nlohmann::json peers = nlohmann::json::object();
    if (auto it = per_peer_.find(phase); it != per_peer_.end())
      for (const auto& [peer, c] : it->second) peers[std::to_string(peer)] = counters_json(c);
    phases[phase] = {{"total", counters_json(phase_total(phase))}, {"peers", peers}};
  }
  return {{"phases", phases}, {"total", counters_json(total())}};
}

void Stats::reset() {
  per_peer_.clear();
  rounds_.clear();
}

}  // namespace net
