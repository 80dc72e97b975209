#include "kvcache/rules/policy_counts.hpp"

#include "kvcache/selection_util.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace kvcache::rules {

namespace {
void check_prompt_length(int prompt_length, const char* policy) {
  if (prompt_length < 1)
    throw std::invalid_argument(std::string(policy) + ": the prompt length must be positive, got " + std::to_string(prompt_length));
}
}  // namespace

std::vector<int> RecencyCounts::rows_of(int size) const {
  if (size <= capacity) return index_range(0, size);
  return merge_sorted(index_range(0, sinks), index_range(size - (capacity - sinks), size));
}

RecencyCounts streaming_llm_counts(const PolicyConfig& config, int prompt_length) {
  check_prompt_length(prompt_length, "streamingllm");
  RecencyCounts counts;
  counts.capacity = total_budget(config, prompt_length, config.sinks);
  counts.sinks = std::clamp(config.sinks, 0, counts.capacity - 1);
  return counts;
}

ScoreEvictionCounts h2o_counts(const PolicyConfig& config, int prompt_length) {
  check_prompt_length(prompt_length, "h2o");
  ScoreEvictionCounts counts;
  counts.capacity = total_budget(config, prompt_length, config.recent_window);
  counts.recent = std::clamp(config.recent_window, 0, counts.capacity);
  return counts;
}

ScoreEvictionCounts tova_counts(const PolicyConfig& config, int prompt_length) {
  check_prompt_length(prompt_length, "tova");
  return {total_budget(config, prompt_length, 0), 0};
}

int snapkv_capacity(const PolicyConfig& config, int prompt_length) {
  check_prompt_length(prompt_length, "snapkv");
  return total_budget(config, prompt_length, config.observation_window);
}

int quest_page_budget(const PolicyConfig& config, int prompt_length) {
  check_prompt_length(prompt_length, "quest");
  const int current_page = config.window_outside_budget ? 1 : 0;
  return std::max(1, total_budget(config, prompt_length, 0) / config.page_size) + current_page;
}

StaticEvictionCounts mpcache_static_counts(const PolicyConfig& config, int prompt_length) {
  check_prompt_length(prompt_length, "mpcache");
  const int observed = static_cast<int>(std::floor(config.mpcache_observation_ratio * prompt_length));
  const int extras = config.window_outside_budget ? config.sinks + config.mpcache_recent : 0;
  StaticEvictionCounts counts;
  counts.capacity = std::min(prompt_length, Budget{config.mpcache_static_ratio, 0}.resolve(prompt_length) + extras);
  counts.window = std::clamp(observed, 1, prompt_length);
  // Sinks first, then the recent rows, within the capacity.
  counts.sinks = std::clamp(config.sinks, 0, counts.capacity);
  counts.recent = std::clamp(config.mpcache_recent, 0, counts.capacity - counts.sinks);
  return counts;
}

}  // namespace kvcache::rules
