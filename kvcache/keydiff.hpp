// KeyDiff (Park et al., 2025): keep the keys that differ most from the rest, i.e. those with the
// lowest cosine similarity to the anchor = mean of the L2-normalised keys of the head. Sinks and a
// recent window are always kept. Conventions: per key/value head; the budget B counts the sinks S
// and the recent window R (S and R are clamped to fit; with window_outside_budget the cache holds
// B + S + R); eviction after prefill and after every append keeps the cache at the budget. A zero
// key has cosine 0 to any anchor.
#pragma once

#include "kvcache/policy_config.hpp"

namespace kvcache {

// Cosine similarity of every key row to the mean of the normalised key rows.
std::vector<double> keydiff_similarity(mpc::FloatView keys);

class KeyDiffPolicy final : public CachePolicy {
 public:
  explicit KeyDiffPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "keydiff"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;
  void on_append(int layer, LayerCache& cache) override;

 private:
  void evict(LayerCache& cache) const;

  PolicyConfig config_;
  int capacity_ = 0;
  int sinks_ = 0;
  int recent_ = 0;
};

}  // namespace kvcache
