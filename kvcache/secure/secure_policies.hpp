// Secure cache policies of the study that need no per-step secret eviction: the full cache,
// StreamingLLM (public rows), and MPCache (secure dynamic selection with cross-layer index
// sharing; static eviction at prefill). The score-based baselines live in
// secure_score_eviction.hpp, Quest in secure_quest.hpp; make_secure_policy builds any of them.
#pragma once

#include "kvcache/cluster_selection.hpp"
#include "kvcache/policy_config.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "kvcache/secure/secure_cluster_boxes.hpp"
#include "kvcache/secure/secure_cluster_selection.hpp"

#include <functional>
#include <memory>
#include <optional>

namespace kvcache::secure {

struct SecureModelShape {
  int layers = 0;
  int query_heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int group() const { return query_heads / kv_heads; }
};

class SecureFullCache final : public SecureCachePolicy {
 public:
  std::string name() const override { return "full"; }
};

// Sinks plus the most recent tokens, `budget` rows in all: which rows attend is public, so the
// policy costs nothing under MPC (the cache keeps growing; only the window attends).
class SecureStreamingLlm final : public SecureCachePolicy {
 public:
  SecureStreamingLlm(int sinks, int budget);
  std::string name() const override { return "streamingllm"; }
  AttendingRows attending(int layer, std::span<const Share> queries, const SecureLayerCache& cache) override;

 private:
  int sinks_;
  int budget_;
};

// MPCache on shares. Static eviction at prefill (on a private prefill: the observation window's
// votes from the prompt attention, secret top-k, position-ordered compaction), then per decode step on the layers
// that select for themselves (mpcache_selects_itself): the cluster boxes absorb the new key row,
// SecureClusterSelector picks clusters (kvcache/cluster_selection.hpp describes the counts), and
// the layers in between reuse the previous layer's secret one-hot (cross-layer index sharing; all
// layers have the same cache length, so cluster indices carry over).
class SecureMpcachePolicy final : public SecureCachePolicy {
 public:
  // Fills a selecting layer's boxes from outside (e.g. from the cache source's plaintext boxes)
  // instead of computing them from the secret keys.
  using BoxSource = std::function<void(int layer, SecureClusterBoxes& boxes)>;

  SecureMpcachePolicy(protocols::ops::SecureOps& ops, const PolicyConfig& config, const SecureModelShape& shape);
  std::string name() const override { return "mpcache"; }
  void set_box_source(BoxSource source) { box_source_ = std::move(source); }
  const PolicyConfig& config() const { return config_; }

  void begin(int layers, int prompt_length) override;
  // On a private prefill, takes each layer's window votes from its prompt attention; the eviction
  // itself and the boxes wait for on_prefill_done, which runs them for all layers at once.
  void on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) override;
  void on_prefill_done(std::span<SecureLayerCache> layers) override;
  void on_append(int layer, std::span<const Share> key_rows, SecureLayerCache& cache) override;
  AttendingRows attending(int layer, std::span<const Share> queries, const SecureLayerCache& cache) override;

  bool selects_itself(int layer) const;

 private:
  void build_boxes(std::span<const SecureLayerCache> layers);
  std::vector<Share> query_groups(std::span<const Share> queries) const;

  protocols::ops::SecureOps& ops_;
  PolicyConfig config_;
  ClusterSelectionParams params_;
  SecureModelShape shape_;
  SecureClusterSelector selector_;
  BoxSource box_source_;
  int prompt_length_ = 0;
  std::vector<std::optional<Share>> votes_;  // per layer, until on_prefill_done evicts
  std::vector<std::optional<SecureClusterBoxes>> boxes_;  // per layer; only selecting layers
  std::vector<std::optional<SecureSelection>> selections_;  // per layer, this step's selection
};

// The secure policy `name` (as in kvcache/policy_factory: full, streamingllm, h2o, tova, quest,
// mpcache). `budget_tokens` is the public number of rows a baseline keeps (StreamingLLM, H2O,
// TOVA: the plaintext policy's capacity) or attends (Quest).
std::unique_ptr<SecureCachePolicy> make_secure_policy(const std::string& name, protocols::ops::SecureOps& ops,
                                                      const PolicyConfig& config, const SecureModelShape& shape,
                                                      int budget_tokens);

// The names make_secure_policy accepts.
std::vector<std::string> secure_policy_names();

}  // namespace kvcache::secure
