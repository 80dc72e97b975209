#include "kvcache/quest.hpp"

#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/selection_util.hpp"

#include <algorithm>

namespace kvcache {

double box_upper_bound(const Eigen::RowVectorXd& query, const Eigen::RowVectorXd& max,
                       const Eigen::RowVectorXd& min) {
  return query.cwiseProduct(max).cwiseMax(query.cwiseProduct(min)).sum();
}

void QuestPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  query_group_size(shape);
  page_budget_ = rules::quest_page_budget(config_, prompt_length);
  pages_.assign(static_cast<std::size_t>(shape.layers),
                std::vector<ClusterBoxes>(static_cast<std::size_t>(shape.kv_heads), ClusterBoxes(config_.page_size)));
}

Selection QuestPolicy::select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) {
  check_queries(query, shape_, "quest");
  const int group = query_group_size(shape_);
  Selection selection = Selection::all(cache.kv_heads());
  for (int g = 0; g < cache.kv_heads(); ++g) {
    ClusterBoxes& pages = pages_.at(layer).at(g);
    pages.update(cache.heads[g].keys);
    const int count = pages.clusters();
    if (count <= page_budget_) continue;
    std::vector<double> bounds(static_cast<std::size_t>(count - 1), 0.0);  // the current page is always in
    for (int p = 0; p + 1 < count; ++p) {
      for (int h = g * group; h < (g + 1) * group; ++h) {
        bounds[p] += box_upper_bound(query[h].row(0), pages.max().row(p), pages.min().row(p));
      }
    }
    std::vector<int> rows;
    for (int p : merge_sorted(top_k(bounds, page_budget_ - 1), {count - 1})) {
      const std::vector<int> page_rows = pages.rows_of(p);
      rows.insert(rows.end(), page_rows.begin(), page_rows.end());
    }
    selection.rows[g] = std::move(rows);
  }
  return selection;
}

}  // namespace kvcache
