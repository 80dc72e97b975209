#include "kvcache/policy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace kvcache {

int Budget::resolve(int prompt_length) const {
  if (prompt_length <= 0) {
    throw std::invalid_argument("Budget::resolve: prompt length must be positive, got " + std::to_string(prompt_length));
  }
  if (tokens > 0) return std::min(tokens, prompt_length);
  if (!(ratio > 0.0 && ratio <= 1.0)) {
    throw std::invalid_argument("Budget::resolve: ratio must be in (0, 1], got " + std::to_string(ratio));
  }
  // Round to nearest so that e.g. 0.2 * 10 is 2 even when 0.2 * 10 evaluates to 1.9999...
  const int count = static_cast<int>(std::lround(ratio * prompt_length));
  return std::clamp(count, 1, prompt_length);
}

}  // namespace kvcache
