// The full KV cache: keeps and attends every token (the accuracy upper bound).
#pragma once

#include "kvcache/policy.hpp"

namespace kvcache {

class FullCachePolicy final : public CachePolicy {
 public:
  std::string name() const override { return "full"; }
};

}  // namespace kvcache
