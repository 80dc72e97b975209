// The secure operators' options of a test run: MPCACHE_TEST_COMPARISONS=fss makes the comparisons
// run by function secret sharing, so that CTest can run a suite once per method.
#pragma once

#include "protocols/ops/secure_ops.hpp"

#include <cstdlib>

namespace test_support {

inline protocols::ops::OpsOptions test_ops_options(int tournament_arity = 0) {
  protocols::ops::OpsOptions options;
  options.tournament_arity = tournament_arity;
  if (const char* method = std::getenv("MPCACHE_TEST_COMPARISONS")) options.comparisons = protocols::ops::parse_comparisons(method);
  return options;
}

// Whether comparisons of this backend run by FSS in this test run.
inline bool fss_comparisons(protocols::Backend) {
  return test_ops_options().comparisons == protocols::ops::Comparisons::fss;
}

}  // namespace test_support
