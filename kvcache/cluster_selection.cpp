#include "kvcache/cluster_selection.hpp"

#include "kvcache/cluster_boxes.hpp"
#include "kvcache/selection_util.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <stdexcept>
#include <string>

namespace kvcache {

namespace {

// The fewest candidates k1 chosen level-1 clusters can yield: every chosen parent brings all its
// children, minus the forced ones among them; the worst case picks the parents holding the most
// forced children. Public, so the level-2 count never depends on which parents won.
int fewest_candidates(const ClusterSelectionShape& s, int children) {
  std::map<int, int> forced_per_parent;
  for (int forced : {0, s.last_cluster()}) {
    const int parent = forced / children;
    if (parent < s.clusters1) ++forced_per_parent[parent];
  }
  std::vector<int> counts;
  for (const auto& [parent, count] : forced_per_parent) counts.push_back(count);
  std::sort(counts.rbegin(), counts.rend());
  const int worst = std::accumulate(counts.begin(), counts.begin() + std::min<int>(s.k1, counts.size()), 0);
  return s.k1 * children - worst;
}

}  // namespace

ClusterSelectionParams ClusterSelectionParams::from(const PolicyConfig& config) {
  ClusterSelectionParams p;
  p.alpha = config.mpcache_alpha;
  p.size1 = config.mpcache_cluster_size1;
  p.size2 = config.mpcache_cluster_size2;
  p.level1_ratio = config.mpcache_level1_ratio;
  p.level2_ratio = config.mpcache_dyn_ratio;
  return p;
}

void ClusterSelectionParams::validate() const {
  if (size2 < 1 || size1 < size2 || size1 % size2 != 0)
    throw std::invalid_argument("cluster selection: level-1 size " + std::to_string(size1) +
                                " must be a positive multiple of the level-2 size " + std::to_string(size2));
  if (!(level1_ratio > 0 && level1_ratio <= 1) || !(level2_ratio > 0 && level2_ratio <= 1))
    throw std::invalid_argument("cluster selection: ratios must be in (0, 1]");
  if (!(alpha >= 0 && alpha <= 1)) throw std::invalid_argument("cluster selection: alpha must be in [0, 1]");
}

ClusterSelectionShape cluster_selection_shape(int len, const ClusterSelectionParams& params) {
  params.validate();
  if (len < 0) throw std::invalid_argument("cluster selection: negative cache length");
  ClusterSelectionShape s;
  s.len = len;
  s.size2 = params.size2;
  s.clusters1 = len / params.size1;
  s.clusters2 = len / params.size2;
  s.tail_begin = s.clusters2 * params.size2;
  s.selects = s.clusters2 >= 3 && s.clusters1 >= 1;
  if (!s.selects) return s;
  s.k1 = ratio_count(s.clusters1, params.level1_ratio);
  s.k2 = std::min(ratio_count(s.clusters2, params.level2_ratio), fewest_candidates(s, params.children()));
  return s;
}

std::vector<double> cluster_scores(const FloatMatrix& keys, const FloatMatrix& queries, int cluster_size,
                                   double alpha) {
  if (queries.cols() != keys.cols())
    throw std::invalid_argument("cluster selection: queries have " + std::to_string(queries.cols()) +
                                " columns, keys " + std::to_string(keys.cols()));
  // Summing the group's queries first gives the same score with one dot product per cluster.
  const Eigen::RowVectorXd query_sum = queries.colwise().sum();
  const Eigen::Index clusters = keys.rows() / cluster_size;
  std::vector<double> scores;
  for (Eigen::Index c = 0; c < clusters; ++c) {
    const Box box = box_of_rows(keys, c * cluster_size, cluster_size);
    const Eigen::RowVectorXd centre = alpha * box.max + (1 - alpha) * box.min;
    scores.push_back(query_sum.dot(centre));
  }
  return scores;
}

ClusterSelection select_clusters(mpc::FloatView keys, const FloatMatrix& queries,
                                 const ClusterSelectionParams& params) {
  ClusterSelection out;
  out.shape = cluster_selection_shape(static_cast<int>(keys.rows()), params);
  const ClusterSelectionShape& s = out.shape;
  if (!s.selects) {
    out.rows = index_range(0, s.len);
    return out;
  }
  const std::vector<double> level1_scores = cluster_scores(keys, queries, params.size1, params.alpha);
  out.level1 = top_k(level1_scores, s.k1);
  std::vector<int> parents_best_first = out.level1;
  std::stable_sort(parents_best_first.begin(), parents_best_first.end(),
                   [&](int a, int b) { return level1_scores[static_cast<std::size_t>(a)] > level1_scores[static_cast<std::size_t>(b)]; });
  std::vector<double> level2_scores = cluster_scores(keys, queries, params.size2, params.alpha);
  // Candidates in the secure selection's slot order (child j of every chosen parent, parents best
  // first, for j = 0, 1, ...), so that equal scores resolve the same way in both.
  std::vector<int> candidates;
  std::vector<double> candidate_scores;
  for (int j = 0; j < params.children(); ++j) {
    for (int parent : parents_best_first) {
      const int c = parent * params.children() + j;
      if (c == 0 || c == s.last_cluster()) continue;
      candidates.push_back(c);
      candidate_scores.push_back(level2_scores[static_cast<std::size_t>(c)]);
    }
  }
  for (int i : top_k(candidate_scores, s.k2)) out.level2.push_back(candidates[static_cast<std::size_t>(i)]);
  std::sort(out.level2.begin(), out.level2.end());
  out.attending = out.level2;
  out.attending.push_back(0);
  out.attending.push_back(s.last_cluster());
  std::sort(out.attending.begin(), out.attending.end());
  for (int c : out.attending) {
    const std::vector<int> cluster_rows = index_range(c * params.size2, (c + 1) * params.size2);
    out.rows.insert(out.rows.end(), cluster_rows.begin(), cluster_rows.end());
  }
  const std::vector<int> tail = index_range(s.tail_begin, s.len);
  out.rows.insert(out.rows.end(), tail.begin(), tail.end());
  return out;
}

}  // namespace kvcache
