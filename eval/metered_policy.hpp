// A cache policy wrapper that forwards every call to the wrapped policy and measures how many
// cached rows each decode step keeps and attends. Nominal budgets and real footprints differ
// (windows, sinks, cluster granularity, tokens generated after a prefill-only eviction), so the
// evaluation reports the measured numbers next to the nominal budget.
#pragma once

#include "kvcache/policy.hpp"

namespace eval {

struct CacheUsage {
  double attended_rows = 0.0;  // mean rows attended per key/value head, layer and decode step
  double cached_rows = 0.0;    // mean rows held in the cache at the same moments
  long long decode_steps = 0;  // decode steps measured
};

class MeteredPolicy final : public kvcache::CachePolicy {
 public:
  // Keeps a reference: `inner` must outlive the wrapper.
  explicit MeteredPolicy(kvcache::CachePolicy& inner) : inner_(inner) {}

  std::string name() const override { return inner_.name(); }
  void begin(const kvcache::ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<kvcache::FloatMatrix>& queries, kvcache::LayerCache& cache) override;
  void on_append(int layer, kvcache::LayerCache& cache) override;
  kvcache::Selection select(int layer, const std::vector<kvcache::FloatMatrix>& query,
                            const kvcache::LayerCache& cache) override;
  bool attend(int layer, const std::vector<kvcache::FloatMatrix>& query, const kvcache::LayerCache& cache,
              const kvcache::Selection& selection, std::vector<kvcache::FloatMatrix>& out) override;
  void on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const kvcache::Selection& selection,
                    kvcache::LayerCache& cache) override;

  // Averages over every decode step since the last begin().
  CacheUsage usage() const;

 private:
  kvcache::CachePolicy& inner_;
  double attended_sum_ = 0.0;
  double cached_sum_ = 0.0;
  long long head_samples_ = 0;  // (decode step, layer, kv head) triples measured
};

}  // namespace eval
