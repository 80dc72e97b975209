// SnapKV (Li et al., 2024): at prefill, the last W prompt queries (the observation window) vote
// for the earlier tokens with their attention; the votes are smoothed by 1-D pooling and the top
// tokens per key/value head are kept together with the window itself. Decoding then appends
// without further eviction. Conventions: votes are summed over the window queries and the query
// heads of a group; the budget B counts the window (kept prefix = B - W; W is clamped to B); with
// window_outside_budget the cache holds B + W rows after prefill.
#pragma once

#include "kvcache/policy_config.hpp"

namespace kvcache {

// The rows SnapKV keeps of one head (all rows if the head fits in `capacity`).
std::vector<int> snapkv_keep_rows(const std::vector<FloatMatrix>& queries, const HeadCache& head, int kv_head,
                                  const ModelShape& shape, int capacity, const PolicyConfig& config);

class SnapKvPolicy final : public CachePolicy {
 public:
  explicit SnapKvPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "snapkv"; }

  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;

 private:
  PolicyConfig config_;
};

}  // namespace kvcache
