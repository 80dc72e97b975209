#include "net/operator_profile.hpp"

#include <stdexcept>

namespace net {

ProfileFigures& ProfileFigures::operator+=(const ProfileFigures& o) {
  seconds += o.seconds;
  online_bytes_sent += o.online_bytes_sent;
  offline_bytes_sent += o.offline_bytes_sent;
  rounds += o.rounds;
  calls += o.calls;
  wait_seconds += o.wait_seconds;
  offline_wait_seconds += o.offline_wait_seconds;
  return *this;
}

ProfileFigures& ProfileFigures::operator-=(const ProfileFigures& o) {
  seconds -= o.seconds;
  online_bytes_sent -= o.online_bytes_sent;
  offline_bytes_sent -= o.offline_bytes_sent;
  rounds -= o.rounds;
  calls -= o.calls;
  wait_seconds -= o.wait_seconds;
  offline_wait_seconds -= o.offline_wait_seconds;
  return *this;
}

nlohmann::json ProfileFigures::to_json() const {
  return {{"seconds", seconds},   {"online_bytes_sent", online_bytes_sent}, {"offline_bytes_sent", offline_bytes_sent},
          {"rounds", rounds},     {"calls", calls}, {"wait_seconds", wait_seconds},
          {"offline_wait_seconds", offline_wait_seconds}};
}

ProfileFigures traffic_totals(const Stats& stats) {
  const Counters total = stats.total(), offline = stats.phase_total(kOfflinePhase);
  ProfileFigures f;
  f.online_bytes_sent = total.bytes_sent - offline.bytes_sent;
  f.offline_bytes_sent = offline.bytes_sent;
  f.rounds = total.rounds;
  f.wait_seconds = stats.total_wait_seconds();
  f.offline_wait_seconds = stats.wait_seconds(kOfflinePhase);
  return f;
}

ProfileFigures OperatorProfile::now() const {
  ProfileFigures f = traffic_totals(stats_);
  f.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_).count();
  return f;
}

void OperatorProfile::enter(std::string operator_class) { open_.push_back({std::move(operator_class), now(), {}}); }

void OperatorProfile::leave() {
  if (open_.empty()) throw std::logic_error("OperatorProfile::leave() without a matching enter()");
  Frame frame = std::move(open_.back());
  open_.pop_back();
  ProfileFigures inclusive = now();
  inclusive -= frame.start;
  inclusive.calls = 1;
  if (!open_.empty()) open_.back().children += inclusive;
  ProfileFigures exclusive = inclusive;
  exclusive -= frame.children;
  exclusive.calls = 1;
  classes_[frame.name] += exclusive;
}

nlohmann::json OperatorProfile::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, figures] : classes_) j[name] = figures.to_json();
  return j;
}

}  // namespace net
