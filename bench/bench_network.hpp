// The --network flag of the secure benchmarks in bench/: the emulated link between their parties
// (net/link_profile.hpp). Taken out of argv, so each benchmark's own arguments keep their places.
#pragma once

#include "net/link_profile.hpp"

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>

namespace bench {

inline net::LinkProfile take_network_flag(int& argc, char** argv) {
  net::LinkProfile profile;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    std::string value;
    if (std::strcmp(argv[i], "--network") == 0 && i + 1 < argc) {
      value = argv[++i];
    } else if (std::strncmp(argv[i], "--network=", 10) == 0) {
      value = argv[i] + 10;
    } else {
      argv[kept++] = argv[i];
      continue;
    }
    try {
      profile = net::parse_link_profile(value);
    } catch (const std::invalid_argument& e) {
      std::fprintf(stderr, "--network: %s\n", e.what());
      std::exit(2);
    }
  }
  argc = kept;
  std::printf("network between the parties: %s\n", profile.describe().c_str());
  return profile;
}

}  // namespace bench
