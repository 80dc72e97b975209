#include "kvcache/mpcache_policy.hpp"

#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/selection_util.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace kvcache {

namespace {

// The query rows of the heads that read key/value head `kv_head`, stacked (group x head_dim).
FloatMatrix group_query_rows(const std::vector<FloatMatrix>& query, int kv_head, int group) {
  FloatMatrix rows(group, query.front().cols());
  for (int i = 0; i < group; ++i) rows.row(i) = query[static_cast<std::size_t>(kv_head * group + i)].row(0);
  return rows;
}

}  // namespace

bool mpcache_selects_itself(int layer, const PolicyConfig& config) {
  const int skip = config.mpcache_share_skip_layers;
  return layer < skip || (layer - skip) % config.mpcache_share_interval == 0;
}

int mpcache_sharing_leader(int layer, const PolicyConfig& config) {
  while (!mpcache_selects_itself(layer, config)) --layer;
  return layer;
}

ClusterSelection reuse_cluster_selection(const ClusterSelection& previous, int len,
                                         const ClusterSelectionParams& params) {
  if (previous.shape.len != len) {
    throw std::logic_error("mpcache: a layer with " + std::to_string(len) +
                           " cached rows cannot reuse cluster indices chosen on " +
                           std::to_string(previous.shape.len) + " rows");
  }
  ClusterSelection reused;
  reused.shape = cluster_selection_shape(len, params);
  if (!reused.shape.selects) {
    reused.rows = index_range(0, len);
    return reused;
  }
  reused.level1 = previous.level1;
  reused.level2 = previous.level2;
  reused.attending = previous.attending;
  for (int c : reused.attending) {
    const std::vector<int> cluster_rows = index_range(c * params.size2, (c + 1) * params.size2);
    reused.rows.insert(reused.rows.end(), cluster_rows.begin(), cluster_rows.end());
  }
  const std::vector<int> tail = index_range(reused.shape.tail_begin, len);
  reused.rows.insert(reused.rows.end(), tail.begin(), tail.end());
  return reused;
}

void MpcachePolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  query_group_size(shape);
  params_ = ClusterSelectionParams::from(config_);
  params_.validate();
  static_ = rules::mpcache_static_counts(config_, prompt_length);
  selections_.assign(static_cast<std::size_t>(shape.layers),
                     std::vector<ClusterSelection>(static_cast<std::size_t>(shape.kv_heads)));
  static_kept_.assign(static_cast<std::size_t>(shape.layers), {});
  static_votes_.assign(static_cast<std::size_t>(shape.layers), {});
}

const std::vector<double>& MpcachePolicy::static_votes(int layer) const {
  return static_votes_.at(static_cast<std::size_t>(mpcache_sharing_leader(layer, config_)));
}

std::vector<int> MpcachePolicy::static_keep_rows(const std::vector<FloatMatrix>& queries, const LayerCache& cache,
                                                 std::vector<double>& votes) const {
  const int size = cache.heads.front().size();
  if (size != prompt_length_)
    throw std::logic_error("mpcache: static eviction runs on the prompt's " + std::to_string(prompt_length_) +
                           " rows, the cache holds " + std::to_string(size));
  const int sinks = static_.sinks, recent = static_.recent;
  votes.assign(static_cast<std::size_t>(size), 0.0);
  for (int g = 0; g < cache.kv_heads(); ++g) {
    const std::vector<double> group_votes = window_votes(queries, cache.heads[g], g, shape_, static_.window);
    for (int r = 0; r < size; ++r) votes[r] += group_votes[r] / shape_.query_heads;
  }
  const std::vector<double> middle(votes.begin() + sinks, votes.end() - recent);
  std::vector<int> kept = top_k(middle, static_.middle_kept());
  for (int& row : kept) row += sinks;
  return merge_sorted(merge_sorted(index_range(0, sinks), kept), index_range(size - recent, size));
}

void MpcachePolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  check_queries(queries, shape_, "mpcache");
  if (cache.heads.empty() || cache.heads.front().size() <= static_.capacity) return;
  for (const auto& head : cache.heads) {
    if (head.positions != cache.heads.front().positions) {
      throw std::invalid_argument("mpcache: heads must hold the same prompt rows at prefill");
    }
  }
  // A layer that reuses its group leader's cluster indices also keeps the leader's rows, so that a
  // reused index names the same tokens in both layers.
  const int leader = mpcache_sharing_leader(layer, config_);
  std::vector<int>& kept = static_kept_.at(static_cast<std::size_t>(layer));
  kept = leader == layer ? static_keep_rows(queries, cache, static_votes_.at(static_cast<std::size_t>(layer)))
                         : static_kept_.at(static_cast<std::size_t>(leader));
  if (kept.empty()) throw std::logic_error("mpcache: layer " + std::to_string(layer) + " prefilled before its group's first layer");
  for (auto& head : cache.heads) head.keep(kept);
}

ClusterSelection MpcachePolicy::own_selection(int kv_head, const std::vector<FloatMatrix>& query,
                                              const HeadCache& head) const {
  return select_clusters(head.keys, group_query_rows(query, kv_head, query_group_size(shape_)), params_);
}

Selection MpcachePolicy::select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) {
  check_queries(query, shape_, "mpcache");
  const bool selects_itself = mpcache_selects_itself(layer, config_);
  Selection selection = Selection::all(cache.kv_heads());
  for (int g = 0; g < cache.kv_heads(); ++g) {
    const HeadCache& head = cache.heads[g];
    if (head.size() == 0) throw std::logic_error("mpcache: select on an empty cache");
    ClusterSelection& chosen = selections_.at(layer).at(g);
    chosen = selects_itself ? own_selection(g, query, head)
                            : reuse_cluster_selection(selections_.at(layer - 1).at(g), head.size(), params_);
    selection.rows[g] = chosen.rows;
  }
  return selection;
}

}  // namespace kvcache
