// PyramidKV (Cai et al., 2024): SnapKV selection with a per-layer budget that decreases linearly
// from the lowest to the highest layer while the total over layers stays L * B. As in the authors'
// code, the part of the budget outside the observation window W ranges from
// 2 (B - W) - (B - W) / beta at layer 0 down to (B - W) / beta at the top layer; every layer also
// keeps its window. Fractions are rounded down and the remainder goes to the lowest layers so the
// total is exact (before clamping to the prompt length).
#pragma once

#include "kvcache/policy_config.hpp"

#include <vector>

namespace kvcache {

// Per-layer capacities (window included) for a prompt of `prompt_length`.
std::vector<int> pyramid_layer_budgets(const PolicyConfig& config, int layers, int prompt_length);

class PyramidKvPolicy final : public CachePolicy {
 public:
  explicit PyramidKvPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "pyramidkv"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;

  const std::vector<int>& layer_budgets() const { return budgets_; }

 private:
  PolicyConfig config_;
  std::vector<int> budgets_;
};

}  // namespace kvcache
