// Agreement of a greedy generation under a cache policy with the full-cache generation.
#pragma once

#include <span>

namespace eval {

struct AgreementScore {
  int compared = 0;      // tokens compared (the reference length)
  int prefix_match = 0;  // identical tokens before the first divergence
  int matching = 0;      // identical tokens at the same position, overall

  double prefix_fraction() const { return compared ? static_cast<double>(prefix_match) / compared : 0.0; }
  double overall_fraction() const { return compared ? static_cast<double>(matching) / compared : 0.0; }
  AgreementScore& operator+=(const AgreementScore& other);
};

// Position-wise comparison over the reference's length; missing candidate tokens (a generation
// that stopped early) count as mismatches.
AgreementScore compare_generations(std::span<const int> reference, std::span<const int> candidate);

}  // namespace eval
