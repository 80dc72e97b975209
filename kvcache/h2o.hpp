// H2O (Zhang et al., 2023): heavy hitters by accumulated attention plus a recent window.
// Conventions:
//  - per key/value head: a row's score is the attention it received, summed over the query heads
//    of its group and over every query that has seen it (all prompt queries at prefill, then each
//    decode query);
//  - the budget B counts the recent window R (heavy hitters = B - R; R is clamped to B); with
//    window_outside_budget the cache holds B + R;
//  - eviction happens as attention is observed: after prefill the cache is cut to B, and after each
//    decode step's attention the lowest-scored row outside the recent window is dropped, so the
//    cache holds B rows between steps (B + 1 while the new token attends).
#pragma once

#include "kvcache/policy_config.hpp"

#include <vector>

namespace kvcache {

class H2oPolicy final : public CachePolicy {
 public:
  explicit H2oPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "h2o"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;
  void on_append(int layer, LayerCache& cache) override;
  void on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const Selection& selection,
                    LayerCache& cache) override;

  // Accumulated score of every row of a head (tests and diagnostics).
  const std::vector<double>& scores(int layer, int kv_head) const { return scores_.at(layer).at(kv_head); }
  std::vector<double> accumulated_scores(int layer, int kv_head) const override { return scores(layer, kv_head); }

 private:
  void evict_to_capacity(HeadCache& head, std::vector<double>& scores) const;

  PolicyConfig config_;
  int capacity_ = 0;
  int recent_ = 0;
  std::vector<std::vector<std::vector<double>>> scores_;  // [layer][kv head][row]
};

}  // namespace kvcache
