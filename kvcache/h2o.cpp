#include "kvcache/h2o.hpp"

#include "kvcache/attention.hpp"
#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/selection_util.hpp"

#include <algorithm>
#include <stdexcept>

namespace kvcache {

void H2oPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  query_group_size(shape);
  const rules::ScoreEvictionCounts counts = rules::h2o_counts(config_, prompt_length);
  capacity_ = counts.capacity;
  recent_ = counts.recent;
  scores_.assign(static_cast<std::size_t>(shape.layers), std::vector<std::vector<double>>(shape.kv_heads));
}

void H2oPolicy::evict_to_capacity(HeadCache& head, std::vector<double>& scores) const {
  const int size = head.size();
  if (size <= capacity_) return;
  const int older = size - recent_;
  const std::vector<double> older_scores(scores.begin(), scores.begin() + older);
  const std::vector<int> kept = merge_sorted(top_k(older_scores, capacity_ - recent_), index_range(older, size));
  head.keep(kept);
  std::vector<double> kept_scores;
  kept_scores.reserve(kept.size());
  for (int row : kept) kept_scores.push_back(scores[row]);
  scores = std::move(kept_scores);
}

void H2oPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  check_queries(queries, shape_, "h2o");
  for (int g = 0; g < cache.kv_heads(); ++g) {
    HeadCache& head = cache.heads[g];
    // Every prompt query votes: the observation window is the whole prompt.
    scores_[layer][g] = window_votes(queries, head, g, shape_, static_cast<int>(queries.front().rows()));
    evict_to_capacity(head, scores_[layer][g]);
  }
}

void H2oPolicy::on_append(int layer, LayerCache& cache) {
  for (int g = 0; g < cache.kv_heads(); ++g) scores_[layer][g].resize(cache.heads[g].size(), 0.0);
}

void H2oPolicy::on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const Selection& selection,
                             LayerCache& cache) {
  const int group = query_group_size(shape_);
  for (int h = 0; h < static_cast<int>(probs.size()); ++h) {
    const int g = h / group;
    std::vector<double>& scores = scores_[layer][g];
    const auto& rows = selection.rows[g];
    for (Eigen::Index i = 0; i < probs[h].size(); ++i) scores.at(rows ? (*rows)[i] : i) += probs[h][i];
  }
  for (int g = 0; g < cache.kv_heads(); ++g) evict_to_capacity(cache.heads[g], scores_[layer][g]);
}

}  // namespace kvcache
