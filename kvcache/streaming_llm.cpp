#include "kvcache/streaming_llm.hpp"

namespace kvcache {

void StreamingLlmPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  counts_ = rules::streaming_llm_counts(config_, prompt_length);
}

void StreamingLlmPolicy::evict(LayerCache& cache) const {
  for (auto& head : cache.heads) {
    if (head.size() > counts_.capacity) head.keep(counts_.rows_of(head.size()));
  }
}

void StreamingLlmPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  evict(cache);
}

void StreamingLlmPolicy::on_append(int layer, LayerCache& cache) { evict(cache); }

}  // namespace kvcache
