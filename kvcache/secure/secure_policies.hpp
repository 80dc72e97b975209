// Secure cache policies of the study that need no per-step secret eviction: the full cache,
// StreamingLLM (public rows), and MPCache (secure dynamic selection with cross-layer index
// sharing; static eviction at prefill). The score-based baselines live in
// secure_score_eviction.hpp, Quest in secure_quest.hpp; make_secure_policy builds any of them.
#pragma once

#include "kvcache/cluster_selection.hpp"
#include "kvcache/policy_config.hpp"
#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "kvcache/secure/secure_cluster_boxes.hpp"
#include "kvcache/secure/secure_cluster_selection.hpp"

#include <functional>
#include <memory>
#include <optional>

namespace kvcache::secure {

class SecureFullCache final : public SecureCachePolicy {
 public:
  std::string name() const override { return "full"; }
};

// Sinks plus the most recent tokens, the plaintext StreamingLLM's capacity in all
// (rules::streaming_llm_counts): which rows attend is public, so the policy costs nothing under
// MPC (the cache keeps growing; only the window attends).
class SecureStreamingLlm final : public SecureCachePolicy {
 public:
  explicit SecureStreamingLlm(const PolicyConfig& config);
  std::string name() const override { return "streamingllm"; }
  void begin(const ModelShape& shape, int prompt_length) override;
  Selection select(int layer, std::span<const Share> queries, const SecureLayerCache& cache) override;

 private:
  PolicyConfig config_;
  rules::RecencyCounts counts_;
};

// MPCache on shares. Static eviction at prefill (on a private prefill: the observation window's
// votes from the prompt attention, secret top-k, position-ordered compaction), then per decode step on the layers
// that select for themselves (mpcache_selects_itself): the cluster boxes absorb the new key row,
// SecureClusterSelector picks clusters (kvcache/cluster_selection.hpp describes the counts), and
// the layers in between reuse the previous layer's secret one-hot (cross-layer index sharing; all
// layers have the same cache length, so cluster indices carry over).
class SecureMpcachePolicy final : public SecureCachePolicy {
 public:
  SecureMpcachePolicy(protocols::ops::SecureOps& ops, const PolicyConfig& config);
  std::string name() const override { return "mpcache"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  // Takes the plaintext source's cluster boxes of the kept rows instead of computing them.
  void adopt_prompt_state(const PromptStateSource& source) override;
  // On a private prefill, takes each layer's window votes from its prompt attention; the eviction
  // itself and the boxes wait for on_prefill_done, which runs them for all layers at once.
  void on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) override;
  void on_prefill_done(std::span<SecureLayerCache> layers) override;
  void on_append(int layer, std::span<const Share> key_rows, SecureLayerCache& cache) override;
  Selection select(int layer, std::span<const Share> queries, const SecureLayerCache& cache) override;

  bool selects_itself(int layer) const;

 private:
  void build_boxes(std::span<const SecureLayerCache> layers);
  std::vector<Share> query_groups(std::span<const Share> queries) const;

  protocols::ops::SecureOps& ops_;
  PolicyConfig config_;
  ClusterSelectionParams params_;
  rules::StaticEvictionCounts static_;  // of this prompt, from begin()
  SecureClusterSelector selector_;
  BoxSource box_source_;
  std::vector<std::optional<Share>> votes_;  // per layer, until on_prefill_done evicts
  std::vector<std::optional<SecureClusterBoxes>> boxes_;  // per layer; only selecting layers
  std::vector<std::optional<SecureClusterChoice>> selections_;  // per layer, this step's selection
};


}  // namespace kvcache::secure
