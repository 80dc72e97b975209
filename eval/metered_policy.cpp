#include "eval/metered_policy.hpp"

#include <algorithm>

namespace eval {

void MeteredPolicy::begin(const kvcache::ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  inner_.begin(shape, prompt_length);
  attended_sum_ = 0.0;
  cached_sum_ = 0.0;
  head_samples_ = 0;
}

void MeteredPolicy::on_prefill(int layer, const std::vector<kvcache::FloatMatrix>& queries,
                               kvcache::LayerCache& cache) {
  inner_.on_prefill(layer, queries, cache);
}

void MeteredPolicy::on_append(int layer, kvcache::LayerCache& cache) { inner_.on_append(layer, cache); }

kvcache::Selection MeteredPolicy::select(int layer, const std::vector<kvcache::FloatMatrix>& query,
                                         const kvcache::LayerCache& cache) {
  kvcache::Selection selection = inner_.select(layer, query, cache);
  const int heads = std::min(cache.kv_heads(), static_cast<int>(selection.rows.size()));
  for (int g = 0; g < heads; ++g) {
    attended_sum_ += selection.attended(g, cache.heads[g]);
    cached_sum_ += cache.heads[g].size();
    ++head_samples_;
  }
  return selection;
}

bool MeteredPolicy::attend(int layer, const std::vector<kvcache::FloatMatrix>& query,
                           const kvcache::LayerCache& cache, const kvcache::Selection& selection,
                           std::vector<kvcache::FloatMatrix>& out) {
  return inner_.attend(layer, query, cache, selection, out);
}

void MeteredPolicy::on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs,
                                 const kvcache::Selection& selection, kvcache::LayerCache& cache) {
  inner_.on_attention(layer, probs, selection, cache);
}

CacheUsage MeteredPolicy::usage() const {
  if (head_samples_ == 0) return {};
  const long long per_step = static_cast<long long>(shape_.layers) * shape_.kv_heads;
  return {attended_sum_ / static_cast<double>(head_samples_), cached_sum_ / static_cast<double>(head_samples_),
          per_step > 0 ? head_samples_ / per_step : 0};
}

}  // namespace eval
