#include "eval/agreement.hpp"

namespace eval {

AgreementScore& AgreementScore::operator+=(const AgreementScore& other) {
  compared += other.compared;
  prefix_match += other.prefix_match;
  matching += other.matching;
  return *this;
}

AgreementScore compare_generations(std::span<const int> reference, std::span<const int> candidate) {
  AgreementScore score;
  score.compared = static_cast<int>(reference.size());
  bool diverged = false;
  for (std::size_t i = 0; i < reference.size(); ++i) {
    const bool same = i < candidate.size() && candidate[i] == reference[i];
    diverged = diverged || !same;
    score.matching += same ? 1 : 0;
    score.prefix_match += diverged ? 0 : 1;
  }
  return score;
}

}  // namespace eval
