// `mpcache party`: one party process of a real (possibly multi-machine) run, and `mpcache dealer`,
// the 2PC dealer process.
#pragma once

#include <CLI/CLI.hpp>

namespace parties {

void add_party_command(CLI::App& app);
void add_dealer_command(CLI::App& app);

}  // namespace parties
