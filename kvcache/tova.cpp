#include "kvcache/tova.hpp"

#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/selection_util.hpp"

namespace kvcache {

void TovaPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  query_group_size(shape);
  capacity_ = rules::tova_counts(config_, prompt_length).capacity;
}

void TovaPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  check_queries(queries, shape_, "tova");
  for (int g = 0; g < cache.kv_heads(); ++g) {
    HeadCache& head = cache.heads[g];
    if (head.size() <= capacity_) continue;
    // The group average ranks rows the same as the group sum that window_votes returns.
    head.keep(top_k(window_votes(queries, head, g, shape_, 1), capacity_));
  }
}

void TovaPolicy::on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const Selection& selection,
                              LayerCache& cache) {
  const int group = query_group_size(shape_);
  for (int g = 0; g < cache.kv_heads(); ++g) {
    HeadCache& head = cache.heads[g];
    if (head.size() <= capacity_) continue;
    std::vector<double> mean(static_cast<std::size_t>(head.size()), 0.0);
    const auto& rows = selection.rows[g];
    for (int h = g * group; h < (g + 1) * group; ++h) {
      for (Eigen::Index i = 0; i < probs[h].size(); ++i) mean.at(rows ? (*rows)[i] : i) += probs[h][i] / group;
    }
    head.keep(top_k(mean, capacity_));
  }
}

}  // namespace kvcache
