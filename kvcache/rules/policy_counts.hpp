// The public counts of every cache policy, once for its plaintext and its secure form: how many
// rows a policy keeps or attends, and which of them it protects, for a prompt of a given length.
// Both forms call these, so that a secure policy takes the decisions its plaintext twin takes
// (kvcache/policy_config.hpp states the budget convention).
#pragma once

#include "kvcache/policy_config.hpp"

#include <vector>

namespace kvcache::rules {

// StreamingLLM: `capacity` rows kept, the first `sinks` of them the attention sinks (clamped so
// that at least one recent row is kept).
struct RecencyCounts {
  int capacity = 0;
  int sinks = 0;
  // The rows kept (or attending) of a cache of `size` rows: every row up to the capacity, else the
  // sinks and the newest capacity - sinks rows, in increasing order.
  std::vector<int> rows_of(int size) const;
};
RecencyCounts streaming_llm_counts(const PolicyConfig& config, int prompt_length);

// H2O and TOVA: `capacity` rows kept between steps, the newest `recent` of them never evicted
// (H2O's recent window clamped to the capacity; none for TOVA).
struct ScoreEvictionCounts {
  int capacity = 0;
  int recent = 0;
};
ScoreEvictionCounts h2o_counts(const PolicyConfig& config, int prompt_length);
ScoreEvictionCounts tova_counts(const PolicyConfig& config, int prompt_length);

// SnapKV: rows kept at prefill, the observation window among them.
int snapkv_capacity(const PolicyConfig& config, int prompt_length);

// Quest: pages that attend once the cache has more, the current (newest) page among them.
int quest_page_budget(const PolicyConfig& config, int prompt_length);

// MPCache's look-once static eviction of a prompt: `capacity` rows kept, the first `sinks` and the
// newest `recent` always among them; the rest of the capacity goes to the best-voted of the rows
// between, observation window included (its rows compete like the others, as in the authors'
// algorithm). The last `window` queries vote.
struct StaticEvictionCounts {
  int capacity = 0;
  int sinks = 0;
  int recent = 0;
  int window = 0;
  // Rows chosen by vote, and the rows they are chosen from (sinks and recent rows excluded).
  int middle_kept() const { return capacity - sinks - recent; }
  int middle_rows(int prompt_length) const { return prompt_length - sinks - recent; }
};
StaticEvictionCounts mpcache_static_counts(const PolicyConfig& config, int prompt_length);

}  // namespace kvcache::rules
