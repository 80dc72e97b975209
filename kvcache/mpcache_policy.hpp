// MPCache, plaintext reference of the secure algorithm (arXiv 2501.06807).
//
// 1. Static look-once eviction at prefill: the last `mpcache_observation_ratio` of the prompt
//    queries vote with their causal attention, averaged over ALL query heads, so every head keeps
//    the same tokens; the kept set is the sinks, the observation window and the top-voted rest, in
//    total round(static_ratio * n) tokens (sinks and window inside that count unless
//    window_outside_budget). Generated tokens are never statically evicted.
// 2. Dynamic selection at every decode step, per key/value head: contiguous clusters with
//    per-channel (max, min) boxes maintained incrementally; score q . (a*max + (1-a)*min), summed
//    over the query heads of the group. Level 1 (clusters of size1) keeps the top
//    floor(C1 * level1_ratio); level 2 (clusters of size2, size1 / size2 children per level-1
//    cluster) picks the top floor(C2 * dyn_ratio) among the children of the chosen level-1
//    clusters. The first and the newest cluster of each level are always added, and the last
//    size2 tokens always attend (a partial newest cluster is padded with the tokens before it).
//    Selected level-2 clusters attend at token granularity.
// 3. Cross-layer index sharing: the first `share_skip_layers` layers select for themselves; after
//    them, layers form groups of `share_interval` and each layer of a group reuses the selection of
//    the layer before it (by token position, since static eviction differs per layer; reused
//    tokens that this layer evicted statically are skipped).
//
// Differences from the authors' PyTorch code (zwxandy/MPCache):
//  - static eviction there keeps every token whose head-averaged window attention reaches a
//    per-dataset threshold (the kept ratio follows); here the kept ratio is the parameter and the
//    top-voted tokens are kept, plus explicit sinks. Their window attention is neither scaled by
//    1/sqrt(d) nor causally masked; here it is both, like the model's own attention.
//  - they add the newest cluster only when the cache length is not a multiple of size1 and pad
//    the last cluster with earlier keys; here the newest cluster is always selected, its box
//    covers its own keys only (what incremental maintenance gives), and the padding is the
//    recent window of size2 tokens.
//  - they use int(C * ratio) clusters, which can be 0 on short caches; here at least one.
//  - cross-layer sharing is described in the paper, not in the released code.
#pragma once

#include "kvcache/cluster_boxes.hpp"
#include "kvcache/policy_config.hpp"

namespace kvcache {

// Level-2 clusters chosen by the hierarchical selection for one key/value head, in increasing
// order. `queries` are the query rows of the heads in the group.
std::vector<int> mpcache_select_clusters(const std::vector<Eigen::RowVectorXd>& queries, const ClusterBoxes& level1,
                                         const ClusterBoxes& level2, const PolicyConfig& config);

// Whether `layer` computes its own dynamic selection (otherwise it reuses the previous layer's).
bool mpcache_selects_itself(int layer, const PolicyConfig& config);

class MpcachePolicy final : public CachePolicy {
 public:
  explicit MpcachePolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "mpcache"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;
  Selection select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) override;

  // Prompt tokens kept by static eviction (same for every head).
  int static_capacity() const { return static_capacity_; }

 private:
  struct HeadClusters {
    ClusterBoxes level1;
    ClusterBoxes level2;
  };
  std::vector<int> static_keep_rows(const std::vector<FloatMatrix>& queries, const LayerCache& cache) const;
  std::vector<int> own_selection(int layer, int kv_head, const std::vector<FloatMatrix>& query, const HeadCache& head);
  std::vector<int> reused_selection(int layer, int kv_head, const HeadCache& head) const;

  PolicyConfig config_;
  int static_capacity_ = 0;
  std::vector<std::vector<HeadClusters>> clusters_;              // [layer][kv head]
  std::vector<std::vector<std::vector<int>>> selected_positions_;  // [layer][kv head] at the current step
};

}  // namespace kvcache
