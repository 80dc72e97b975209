#include "kvcache/streaming_llm.hpp"

#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/selection_util.hpp"

#include <algorithm>

namespace kvcache {

void StreamingLlmPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  const rules::RecencyCounts counts = rules::streaming_llm_counts(config_, prompt_length);
  capacity_ = counts.capacity;
  sinks_ = counts.sinks;
}

void StreamingLlmPolicy::evict(LayerCache& cache) const {
  for (auto& head : cache.heads) {
    const int size = head.size();
    if (size <= capacity_) continue;
    head.keep(merge_sorted(index_range(0, sinks_), index_range(size - (capacity_ - sinks_), size)));
  }
}

void StreamingLlmPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  evict(cache);
}

void StreamingLlmPolicy::on_append(int layer, LayerCache& cache) { evict(cache); }

}  // namespace kvcache
