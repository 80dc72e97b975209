#include "parties/link_projection.hpp"

#include <iterator>
#include <optional>

namespace parties {

namespace {

constexpr const char* kLoopback = "loopback";

bool same_point(const nlohmann::json& a, const nlohmann::json& b) {
  return a["protocol"] == b["protocol"] && a["policy"] == b["policy"] && a["cache_length"] == b["cache_length"];
}

std::optional<nlohmann::json> measured_loopback_row(const std::vector<nlohmann::json>& rows, const nlohmann::json& row) {
  for (const auto& r : rows)
    if (r["measured"].get<bool>() && r["network"] == kLoopback && same_point(r, row)) return r;
  return std::nullopt;
}

net::LinkProfile profile_of(const nlohmann::json& row) {
  return {row["network"].get<std::string>(), row["rate_bits_per_second"].get<double>(), row["rtt_seconds"].get<double>()};
}

// The projection terms of `counters` (a row measured anywhere) on `profile`, written into `row`.
void set_terms(nlohmann::json& row, const nlohmann::json& counters, const net::LinkProfile& profile) {
  row["network"] = profile.name;
  row["network_description"] = profile.describe();
  row["rate_bits_per_second"] = profile.rate_bits_per_second;
  row["rtt_seconds"] = profile.rtt_seconds;
  row["latency_term_seconds"] = counters["rounds"].get<double>() * profile.one_way_seconds();
  row["bandwidth_term_seconds"] = profile.transfer_seconds(counters["busiest_link_wire_bytes"].get<double>());
  row["dealer_transfer_seconds"] = profile.transfer_seconds(counters["dealer_link_wire_bytes"].get<double>());
}

}  // namespace

void add_link_columns(nlohmann::json& row, const net::LinkProfile& profile) {
  for (const auto& [name, value] : row["link"].items()) row[name] = value;
  row.erase("link");
  row["measured"] = true;
  set_terms(row, row, profile);
}

void project_rows(std::vector<nlohmann::json>& rows, const std::vector<nlohmann::json>& basis) {
  std::vector<nlohmann::json> measured = rows;
  measured.insert(measured.end(), basis.begin(), basis.end());
  for (auto& row : rows) {
    if (!row["measured"].get<bool>()) continue;
    const net::LinkProfile profile = profile_of(row);
    if (!profile.shaped()) {
      row["projected_seconds"] = row["step_seconds"];
      row["projection_basis"] = "measured on loopback";
      continue;
    }
    if (const auto loopback = measured_loopback_row(measured, row)) {
      row["projected_seconds"] =
          profile.projected_seconds((*loopback)["step_seconds"].get<double>(), (*loopback)["rounds"].get<double>(),
                                    (*loopback)["busiest_link_wire_bytes"].get<double>());
      row["projection_basis"] = "loopback run of the same point";
    } else {
      row["projected_seconds"] = profile.projected_seconds(
          row["compute_seconds"].get<double>(), row["rounds"].get<double>(), row["busiest_link_wire_bytes"].get<double>());
      row["projection_basis"] = "this run's compute estimate";
    }
  }
}

std::vector<nlohmann::json> rows_projected_to(const std::vector<nlohmann::json>& rows, const net::LinkProfile& profile) {
  std::vector<nlohmann::json> projected;
  for (const auto& r : rows) {
    if (!r["measured"].get<bool>() || r["network"] != kLoopback) continue;
    nlohmann::json row = r;
    set_terms(row, r, profile);
    row["measured"] = false;
    row["projected_seconds"] = profile.projected_seconds(r["step_seconds"].get<double>(), r["rounds"].get<double>(),
                                                         r["busiest_link_wire_bytes"].get<double>());
    row["projection_basis"] = "loopback run of the same point (not measured on this network)";
    row["step_seconds"] = nullptr;
    row["dealer_wait_seconds"] = nullptr;
    row["dealer_wait_max_seconds"] = nullptr;
    // A private prefill is measured on loopback only: its figures are not carried to another link.
    for (auto it = row.begin(); it != row.end();) it = it.key().rfind("private_prefill_", 0) == 0 ? row.erase(it) : std::next(it);
    projected.push_back(std::move(row));
  }
  return projected;
}

}  // namespace parties
