#include "kvcache/snapkv.hpp"

#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/selection_util.hpp"

#include <algorithm>

namespace kvcache {

std::vector<int> snapkv_keep_rows(const std::vector<FloatMatrix>& queries, const HeadCache& head, int kv_head,
                                  const ModelShape& shape, int capacity, const PolicyConfig& config) {
  const int size = head.size();
  if (size <= capacity) return index_range(0, size);
  const int window = std::clamp(config.observation_window, 1, capacity);
  const int prefix = size - window;
  std::vector<double> votes = window_votes(queries, head, kv_head, shape, window);
  votes.resize(static_cast<std::size_t>(prefix));  // the window is kept anyway: rank only the prefix
  const std::vector<double> pooled = pool_1d(votes, config.pooling_kernel, config.pooling);
  return merge_sorted(top_k(pooled, capacity - window), index_range(prefix, size));
}

void SnapKvPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  check_queries(queries, shape_, "snapkv");
  const int capacity = rules::snapkv_capacity(config_, prompt_length_);
  for (int g = 0; g < cache.kv_heads(); ++g) {
    cache.heads[g].keep(snapkv_keep_rows(queries, cache.heads[g], g, shape_, capacity, config_));
  }
}

}  // namespace kvcache
