// MPCache, plaintext reference of the secure algorithm (arXiv 2501.06807).
//
// 1. Static look-once eviction at prefill: the last `mpcache_observation_ratio` of the prompt
//    queries vote with their causal attention, averaged over ALL query heads, so every head keeps
//    the same tokens; the kept set is the sinks, the newest `mpcache_recent` rows and the
//    top-voted rest (observation window included: its rows compete for the budget like the
//    others), in total round(static_ratio * n) tokens (sinks and recent rows inside that count
//    unless window_outside_budget). The recent rows are forced because causal votes favour early
//    rows: the last prompt row gets one query's vote, a row W back gets W. Generated tokens are
//    never statically evicted. Layers that share cluster indices (3.) keep the rows their group's
//    first layer keeps.
// 2. Dynamic selection at every decode step, per key/value head: the fixed-count hierarchical
//    cluster selection of kvcache/cluster_selection.hpp (`select_clusters`), exactly what the
//    secure engine runs, on the head's current cache (the statically kept prompt rows in position
//    order, then the generated tokens) and the query rows of the heads of its group.
// 3. Cross-layer index sharing: the first `share_skip_layers` layers select for themselves; after
//    them, layers form groups of `share_interval` and each layer of a group reuses the level-2
//    cluster INDICES chosen by the layer before it (its `attending` clusters, forced ones
//    included) and attends those clusters' rows in its own cache plus its own tail rows. Every
//    layer keeps the same number of prompt tokens, so all caches have the same length and the
//    same cluster boundaries; and every layer of a group keeps the same prompt tokens (the first
//    layer's static choice), so a reused index names the same tokens. Sharing indices needs no
//    positions, which the secure engine would have to compare obliviously.
//
// Differences from the authors' PyTorch code (zwxandy/MPCache):
//  - static eviction there keeps every token whose head-averaged window attention reaches a
//    per-dataset threshold (the kept ratio follows); here the kept ratio is the parameter and the
//    top-voted tokens are kept, plus explicit sinks. Their window attention is neither scaled by
//    1/sqrt(d) nor causally masked; here it is both, like the model's own attention.
//  - the numbers of chosen clusters depend only on the cache length (never on the keys), as MPC
//    requires: they use int(C * ratio) clusters, which can be 0 on short caches, and a variable
//    candidate count; here k1 = max(1, floor(C1 * r1)) and k2 = max(1, floor(C2 * r2)) capped by
//    the fewest candidates any k1 parents can give.
//  - forced clusters: they add the newest (partial) cluster padded with earlier keys when the
//    length is not a multiple of size1; here the level-2 clusters 0 and C2-1 (the first and last
//    complete ones) always attend, as do the tail rows after the last complete cluster. Nothing is
//    forced at level 1. Caches with fewer than 3 level-2 or no level-1 cluster attend entirely.
//  - cross-layer sharing is described in the paper, not in the released code; here a group
//    shares its static keep-set and its cluster indices.
#pragma once

#include "kvcache/cluster_selection.hpp"
#include "kvcache/policy.hpp"
#include "kvcache/policy_config.hpp"
#include "kvcache/rules/policy_counts.hpp"

namespace kvcache {

// Whether `layer` computes its own dynamic selection (otherwise it reuses the previous layer's).
bool mpcache_selects_itself(int layer, const PolicyConfig& config);
// The first layer of `layer`'s sharing group (the nearest layer <= `layer` that selects itself):
// its static eviction decides the kept prompt rows of the whole group.
int mpcache_sharing_leader(int layer, const PolicyConfig& config);

// The selection a layer that reuses `previous` (the previous layer's selection for the same
// key/value head) makes on its own cache of `len` rows: the same attending level-2 clusters plus
// its own tail rows, or every row when the shape does not select. Throws std::logic_error when
// `len` differs from the length `previous` was made at (the cluster indices would not line up).
ClusterSelection reuse_cluster_selection(const ClusterSelection& previous, int len,
                                         const ClusterSelectionParams& params);

class MpcachePolicy final : public CachePolicy {
 public:
  explicit MpcachePolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "mpcache"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;
  Selection select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) override;

  // Prompt tokens kept by static eviction (same for every head).
  int static_capacity() const { return static_.capacity; }
  // The window votes of every prompt row that decided `layer`'s static eviction (its sharing
  // group leader's; empty before the prompt, or when the prompt fit): what a comparison with the
  // secure form's fixed-point votes needs to tell a near-tie from a wrong choice.
  const std::vector<double>& static_votes(int layer) const;
  // The dynamic selection of `layer`'s key/value head at the latest decode step.
  const ClusterSelection& last_selection(int layer, int kv_head) const { return selections_.at(layer).at(kv_head); }

 private:
  std::vector<int> static_keep_rows(const std::vector<FloatMatrix>& queries, const LayerCache& cache,
                                    std::vector<double>& votes) const;
  ClusterSelection own_selection(int kv_head, const std::vector<FloatMatrix>& query, const HeadCache& head) const;

  PolicyConfig config_;
  ClusterSelectionParams params_;
  rules::StaticEvictionCounts static_;
  std::vector<std::vector<ClusterSelection>> selections_;  // [layer][kv head] at the current step
  std::vector<std::vector<int>> static_kept_;  // [layer] prompt rows kept by static eviction
  std::vector<std::vector<double>> static_votes_;  // [layer] the votes behind them (leaders only)
};

}  // namespace kvcache
