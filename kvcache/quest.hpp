// Quest (Tang et al., 2024): query-aware page selection without eviction. Keys are grouped in
// pages of `page_size` rows with per-channel max/min; a page's score is the upper bound
// sum_i max(q_i * max_i, q_i * min_i) of q . k over its keys. At every decode step the top pages
// within the token budget attend, the current (newest) page always among them.
// Conventions: per key/value head, the bound is summed over the query heads of the group; the
// budget B in tokens gives max(1, B / page_size) pages, the current page counted inside them
// (on top with window_outside_budget). The prompt attends in full at prefill.
#pragma once

#include "kvcache/cluster_boxes.hpp"
#include "kvcache/policy_config.hpp"

namespace kvcache {

// Upper bound of q . k over all keys k inside the box [min, max].
double box_upper_bound(const Eigen::RowVectorXd& query, const Eigen::RowVectorXd& max,
                       const Eigen::RowVectorXd& min);

class QuestPolicy final : public CachePolicy {
 public:
  explicit QuestPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "quest"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  Selection select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) override;

 private:
  PolicyConfig config_;
  int page_budget_ = 0;
  std::vector<std::vector<ClusterBoxes>> pages_;  // [layer][kv head]
};

}  // namespace kvcache
