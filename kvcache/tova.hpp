// TOVA (Oren et al., 2024): when the cache exceeds the budget, drop the token with the lowest
// attention from the current query. Conventions:
//  - per key/value head, the attention is averaged over the query heads of its group;
//  - at prefill the last prompt query plays the "current query" and the cache is cut to the
//    budget's top rows at once (instead of replaying the prompt token by token);
//  - during decoding the eviction runs after the step's attention, so the cache holds B rows
//    between steps.
#pragma once

#include "kvcache/policy_config.hpp"

namespace kvcache {

class TovaPolicy final : public CachePolicy {
 public:
  explicit TovaPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "tova"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;
  void on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const Selection& selection,
                    LayerCache& cache) override;

 private:
  PolicyConfig config_;
  int capacity_ = 0;
};

}  // namespace kvcache
