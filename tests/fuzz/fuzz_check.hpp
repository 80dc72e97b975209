// A property a fuzz target checks on every input. A violation prints what failed and aborts, which
// libFuzzer (and the replay driver) report as a crash together with the input that caused it.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace fuzz {

inline void require_property(bool holds, const char* property) {
  if (holds) return;
  std::fprintf(stderr, "fuzz property violated: %s\n", property);
  std::abort();
}

}  // namespace fuzz
