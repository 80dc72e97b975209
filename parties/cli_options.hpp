// Flags shared by several subcommands, and the way a subcommand hands its exit code to main.
#pragma once

#include "net/tls_mesh.hpp"

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <string>
#include <vector>

namespace parties {

// Thrown by a subcommand's callback to end the program with this exit code.
struct CommandExit {
  int code;
};

// CLI::Range, except that a value that is not a number is reported as such (CLI::Range would call
// "abc" out of range).
template <typename T>
CLI::Validator Range(T min, T max) {
  const CLI::Validator range = CLI::Range(min, max);
  return CLI::Validator(
      [range](std::string& input) -> std::string {
        T value{};
        if (!CLI::detail::lexical_cast(input, value))
          return "'" + input + "' is not " + (std::is_integral_v<T> ? "an integer" : "a number");
        return range(input);
      },
      range.get_description());
}

// A non-negative integer such as a seed (CLI11 would read "-1" into an unsigned as 2^64 - 1).
inline const CLI::Validator NonNegativeInteger(
    [](std::string& input) -> std::string {
      std::uint64_t value = 0;
      if (input.empty() || input.front() == '-' || !CLI::detail::lexical_cast(input, value))
        return "'" + input + "' is not a non-negative integer";
      return "";
    },
    "UINT");

struct NetworkOptions {
  double connect_timeout_s = 30;
  double io_timeout_s = 120;
  std::string link = "loopback";  // see net/link_profile.hpp

  net::MeshOptions mesh_options() const {
    net::MeshOptions m;
    m.connect_timeout = std::chrono::milliseconds(static_cast<long>(connect_timeout_s * 1000));
    m.io_timeout = std::chrono::milliseconds(static_cast<long>(io_timeout_s * 1000));
    m.link = net::parse_link_profile(link);
    return m;
  }
};

// Accepts what net::parse_link_profile accepts, with its message otherwise.
inline const CLI::Validator& link_profile_validator() {
  static const CLI::Validator validator(
      [](const std::string& text) {
        try {
          net::parse_link_profile(text);
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      },
      "loopback|lan|wan|RATE,RTT");
  return validator;
}

inline constexpr const char* kNetworkHelp =
    "emulated link between every pair of parties: loopback (no shaping), lan (3 Gbit/s, 0.3 ms RTT), wan "
    "(400 Mbit/s, 40 ms RTT) or RATE,RTT such as 1gbit,2ms; every party of a session must give the same";

inline void add_link_flag(CLI::App& cmd, std::string& link) {
  cmd.add_option("--network", link, kNetworkHelp)->check(link_profile_validator())->capture_default_str();
}

inline void add_network_flags(CLI::App& cmd, NetworkOptions& o) {
  add_link_flag(cmd, o.link);
  cmd.add_option("--connect-timeout", o.connect_timeout_s, "seconds to wait for all peers to connect")
      ->check(Range(0.1, 3600.0))
      ->capture_default_str();
  cmd.add_option("--io-timeout", o.io_timeout_s, "seconds a send or receive may go without progress before the peer counts as stalled; peers that "
                 "compute or wait on a computing peer send keep-alive beats every io-timeout/4, so this bounds only "
                 "dead, stopped or deadlocked peers, never a long computation")
      ->check(Range(0.1, 86400.0))
      ->capture_default_str();
}

// The options of `group` the user gave on the command line, as arguments to pass on to another
// process (e.g. the launcher forwarding policy flags to its parties).
inline std::vector<std::string> given_options_in_group(const CLI::App& cmd, const std::string& group) {
  std::vector<std::string> args;
  for (const CLI::Option* opt : cmd.get_options()) {
    if (opt->get_group() != group || opt->count() == 0) continue;
    args.push_back(opt->get_name());
    if (opt->get_expected_min() == 0) continue;  // a flag
    for (const std::string& value : opt->results()) args.push_back(value);
  }
  return args;
}

}  // namespace parties
