// StreamingLLM (Xiao et al., 2023): the first `sinks` tokens plus a recent window. The budget B
// counts the sinks, so the recent window is B - sinks (with window_outside_budget the cache is
// sinks + B). Sinks are clamped to capacity - 1 so the newest token always stays. Applied after prefill and after every append, so the cache never holds
// more than the budget. Eviction is the same for every key/value head.
#pragma once

#include "kvcache/policy_config.hpp"
#include "kvcache/rules/policy_counts.hpp"

namespace kvcache {

class StreamingLlmPolicy final : public CachePolicy {
 public:
  explicit StreamingLlmPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "streamingllm"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;
  void on_append(int layer, LayerCache& cache) override;

 private:
  void evict(LayerCache& cache) const;

  PolicyConfig config_;
  rules::RecencyCounts counts_;
};

}  // namespace kvcache
