// `mpcache demo`: every party of a secure computation started locally over TLS with fresh
// certificates, their results collected and printed.
#pragma once

#include <CLI/CLI.hpp>

#include <string>

namespace parties {

void add_demo_command(CLI::App& app);

// A token's text for the demo's table: newline, carriage return and tab as \n, \r and \t.
std::string escape_token(const std::string& text);

}  // namespace parties
