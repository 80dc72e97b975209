// `mpcache keygen`: a deployment's CA, per-party keys and certificates, and its parties file.
#pragma once

#include <CLI/CLI.hpp>

namespace parties {
void add_keygen_command(CLI::App& app);
}
