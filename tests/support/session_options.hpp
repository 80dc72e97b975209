// The session options of a test run: MPCACHE_TEST_COMPARISONS=fss makes the comparisons run by
// function secret sharing, so that CTest can run a suite once per method.
#pragma once

#include "protocols/session.hpp"

#include <cstdlib>
#include <string>
#include <utility>

namespace test_support {

inline protocols::Comparisons test_comparisons() {
  const char* method = std::getenv("MPCACHE_TEST_COMPARISONS");
  return method ? protocols::parse_comparisons(method) : protocols::Comparisons::boolean;
}

// A session of `config` (the job description the parties agree on) with the run's comparisons.
inline protocols::SessionOptions test_session_options(std::string config, mpc::FixedPoint fp = mpc::FixedPoint()) {
  return {fp, std::move(config), test_comparisons()};
}

// Whether comparisons of this backend run by FSS in this test run.
inline bool fss_comparisons(protocols::Backend) { return test_comparisons() == protocols::Comparisons::fss; }

}  // namespace test_support
