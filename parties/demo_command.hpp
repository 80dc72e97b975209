// `mpcache demo`: every party of a secure computation started locally over TLS with fresh
// certificates, their results collected and printed.
#pragma once

#include <CLI/CLI.hpp>

namespace parties {
void add_demo_command(CLI::App& app);
}
