// The link-profile columns of the decode benchmark's rows: which network a row was measured on,
// the terms of its analytic projection (net::LinkProfile::projected_seconds) and rows projected
// to a profile from the loopback measurement of the same point.
#pragma once

#include "net/link_profile.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace parties {

// Marks a measured row with its network and fills the projection terms from the row's own
// counters ("link": compute estimate, busiest link direction, dealer link); the projection itself
// is set by project_rows.
void add_link_columns(nlohmann::json& row, const net::LinkProfile& profile);

// Sets projected_seconds and projection_basis of every measured row: from the loopback row of the
// same (protocol, policy, n) among `rows` or `basis` (an earlier run's) when there is one, otherwise
// from the row's own compute estimate.
void project_rows(std::vector<nlohmann::json>& rows, const std::vector<nlohmann::json>& basis = {});

// Rows for `profile` projected from each measured loopback row (marked measured = false).
std::vector<nlohmann::json> rows_projected_to(const std::vector<nlohmann::json>& rows, const net::LinkProfile& profile);

}  // namespace parties
