#include "kvcache/mpcache_policy.hpp"

#include "kvcache/selection_util.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <unordered_set>

namespace kvcache {

namespace {

std::vector<double> box_scores(const std::vector<Eigen::RowVectorXd>& queries, const ClusterBoxes& boxes,
                               double alpha) {
  // One mat-vec per query head: no comparison is needed, which is the point under MPC.
  const FloatMatrix centre = alpha * boxes.max() + (1.0 - alpha) * boxes.min();
  Eigen::VectorXd sum = Eigen::VectorXd::Zero(centre.rows());
  for (const auto& q : queries) sum += centre * q.transpose();
  return std::vector<double>(sum.data(), sum.data() + sum.size());
}

}  // namespace

std::vector<int> mpcache_select_clusters(const std::vector<Eigen::RowVectorXd>& queries, const ClusterBoxes& level1,
                                         const ClusterBoxes& level2, const PolicyConfig& config) {
  const int c1 = level1.clusters();
  const int c2 = level2.clusters();
  if (c1 == 0 || level1.rows_covered() != level2.rows_covered()) {
    throw std::logic_error("mpcache: cluster levels are empty or out of step");
  }
  const int children = level1.cluster_size() / level2.cluster_size();
  const std::vector<int> chosen1 =
      merge_sorted(top_k(box_scores(queries, level1, config.mpcache_alpha), ratio_count(c1, config.mpcache_level1_ratio)),
                   merge_sorted({0}, {c1 - 1}));
  const std::vector<double> scores2 = box_scores(queries, level2, config.mpcache_alpha);
  std::vector<int> candidates;
  std::vector<double> candidate_scores;
  for (int parent : chosen1) {
    for (int child = parent * children; child < std::min(c2, (parent + 1) * children); ++child) {
      candidates.push_back(child);
      candidate_scores.push_back(scores2[child]);
    }
  }
  std::vector<int> chosen2;
  for (int i : top_k(candidate_scores, ratio_count(c2, config.mpcache_dyn_ratio))) chosen2.push_back(candidates[i]);
  return merge_sorted(chosen2, merge_sorted({0}, {c2 - 1}));
}

bool mpcache_selects_itself(int layer, const PolicyConfig& config) {
  const int skip = config.mpcache_share_skip_layers;
  return layer < skip || (layer - skip) % config.mpcache_share_interval == 0;
}

void MpcachePolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  query_group_size(shape);
  const int window = std::max(1, static_cast<int>(std::floor(config_.mpcache_observation_ratio * prompt_length)));
  const int extras = config_.window_outside_budget ? config_.sinks + window : 0;
  static_capacity_ = std::min(prompt_length, Budget{config_.mpcache_static_ratio, 0}.resolve(prompt_length) + extras);
  const HeadClusters empty{ClusterBoxes(config_.mpcache_cluster_size1), ClusterBoxes(config_.mpcache_cluster_size2)};
  clusters_.assign(static_cast<std::size_t>(shape.layers),
                   std::vector<HeadClusters>(static_cast<std::size_t>(shape.kv_heads), empty));
  selected_positions_.assign(static_cast<std::size_t>(shape.layers),
                             std::vector<std::vector<int>>(static_cast<std::size_t>(shape.kv_heads)));
}

std::vector<int> MpcachePolicy::static_keep_rows(const std::vector<FloatMatrix>& queries,
                                                 const LayerCache& cache) const {
  const int size = cache.heads.front().size();
  const int window = std::clamp(static_cast<int>(std::floor(config_.mpcache_observation_ratio * size)), 1,
                                static_capacity_);
  const int sinks = std::clamp(config_.sinks, 0, static_capacity_ - window);
  std::vector<double> votes(static_cast<std::size_t>(size), 0.0);
  for (int g = 0; g < cache.kv_heads(); ++g) {
    const std::vector<double> group_votes = window_votes(queries, cache.heads[g], g, shape_, window);
    for (int r = 0; r < size; ++r) votes[r] += group_votes[r] / shape_.query_heads;
  }
  const std::vector<double> middle(votes.begin() + sinks, votes.end() - window);
  std::vector<int> kept = top_k(middle, static_capacity_ - sinks - window);
  for (int& row : kept) row += sinks;
  return merge_sorted(merge_sorted(index_range(0, sinks), kept), index_range(size - window, size));
}

void MpcachePolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  check_queries(queries, shape_, "mpcache");
  for (auto& head_clusters : clusters_.at(layer)) {
    head_clusters.level1.clear();
    head_clusters.level2.clear();
  }
  if (cache.heads.empty() || cache.heads.front().size() <= static_capacity_) return;
  for (const auto& head : cache.heads) {
    if (head.positions != cache.heads.front().positions) {
      throw std::invalid_argument("mpcache: heads must hold the same prompt rows at prefill");
    }
  }
  const std::vector<int> kept = static_keep_rows(queries, cache);
  for (auto& head : cache.heads) head.keep(kept);
}

std::vector<int> MpcachePolicy::own_selection(int layer, int kv_head, const std::vector<FloatMatrix>& query,
                                              const HeadCache& head) {
  HeadClusters& clusters = clusters_.at(layer).at(kv_head);
  clusters.level1.update(head.keys);
  clusters.level2.update(head.keys);
  const int group = query_group_size(shape_);
  std::vector<Eigen::RowVectorXd> group_queries;
  for (int h = kv_head * group; h < (kv_head + 1) * group; ++h) group_queries.push_back(query[h].row(0));
  std::vector<int> rows;
  for (int c : mpcache_select_clusters(group_queries, clusters.level1, clusters.level2, config_)) {
    const std::vector<int> cluster_rows = clusters.level2.rows_of(c);
    rows.insert(rows.end(), cluster_rows.begin(), cluster_rows.end());
  }
  // The newest cluster may hold only a token or two right after a cluster boundary; like the
  // authors' padding of the last cluster with earlier keys, the last size2 tokens always attend,
  // so the immediately preceding context never drops out of the selection.
  const int recent = std::min(head.size(), config_.mpcache_cluster_size2);
  return merge_sorted(rows, index_range(head.size() - recent, head.size()));
}

std::vector<int> MpcachePolicy::reused_selection(int layer, int kv_head, const HeadCache& head) const {
  const std::vector<int>& previous = selected_positions_.at(layer - 1).at(kv_head);
  const std::unordered_set<int> wanted(previous.begin(), previous.end());
  std::vector<int> rows;
  for (int r = 0; r < head.size(); ++r) {
    if (wanted.contains(head.positions[r])) rows.push_back(r);
  }
  // The newest token always attends, even if the previous layer's cache had no room for it.
  if (rows.empty() || rows.back() != head.size() - 1) rows.push_back(head.size() - 1);
  return rows;
}

Selection MpcachePolicy::select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) {
  check_queries(query, shape_, "mpcache");
  Selection selection = Selection::all(cache.kv_heads());
  for (int g = 0; g < cache.kv_heads(); ++g) {
    const HeadCache& head = cache.heads[g];
    if (head.size() == 0) throw std::logic_error("mpcache: select on an empty cache");
    std::vector<int> rows = mpcache_selects_itself(layer, config_) ? own_selection(layer, g, query, head)
                                                                   : reused_selection(layer, g, head);
    std::vector<int>& positions = selected_positions_.at(layer).at(g);
    positions.clear();
    for (int r : rows) positions.push_back(head.positions[r]);
    selection.rows[g] = std::move(rows);
  }
  return selection;
}

}  // namespace kvcache
