// H2O and TOVA on secret shares: per-step eviction of the lowest-scored cached row, decided and
// applied obliviously (which row leaves stays secret; only the public cache size is known).
//
// Matches the plaintext policies (kvcache/h2o.hpp, kvcache/tova.hpp) decision for decision:
//  - H2O: a row's score is the attention it received, summed over the query heads of its key/value
//    head's group and over every query that has seen it; the newest `recent` rows never leave;
//  - TOVA: a row's score is this step's attention summed over the group (the plaintext group mean
//    ranks rows identically); no protected window.
// After each decode step's attention, a cache of B + 1 rows loses its lowest-scored unprotected
// row (equal scores: the highest index leaves, as the plaintext stable sort does).
//
// Cost of one eviction, every key/value head in the same rounds:
//  - a secret argmin over B + 1 ordering keys (SecureOps::argmax on negated keys, see below);
//  - one elementwise product round for all heads' keys, values (and H2O's scores): with e the
//    one-hot of the evicted row and p its prefix sums (local), row t of the new cache is
//    row t + p_t * (row t+1 - row t);
//  - one masking round (Protocol::fix) for all new key and value operands.
// Ordering keys: -score * 2^b + row (2^b > rows) makes every key distinct and, among equal scores,
// the highest row the maximum; protected rows get a public penalty of -2^58. Both need
// |score| * 2^(F + b) < 2^57, i.e. |score| < 2^31 at F = 16 and 1024 rows.
#pragma once

#include "kvcache/policy_config.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "protocols/ops/secure_ops.hpp"

#include <span>
#include <vector>

namespace kvcache::secure {

enum class ScoreRule {
  Accumulated,  // H2O
  Current,      // TOVA
};

class SecureScoreEviction final : public SecureCachePolicy {
 public:
  // `budget`: the public number of rows the cache keeps between steps (H2O's budget counts the
  // recent window, as kvcache::total_budget resolves it). `group`: query heads per key/value head.
  SecureScoreEviction(protocols::ops::SecureOps& ops, ScoreRule rule, const PolicyConfig& config, int kv_heads,
                      int group, int budget);

  std::string name() const override { return rule_ == ScoreRule::Accumulated ? "h2o" : "tova"; }
  int budget() const { return budget_; }
  // Rows protected from eviction (the newest ones): H2O's recent window clamped to the budget, 0 for TOVA.
  int recent() const { return recent_; }

  void begin(int layers, int prompt_length) override;
  // On a private prefill, H2O scores every row by the causal attention of all prompt queries (the
  // plaintext votes), summed from the prompt pass's own probabilities (no round). A cache above the
  // budget is not cut here: that needs a position-ordered compaction (done by the cache source for
  // adopted caches), so it throws std::logic_error.
  void on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) override;
  void on_append(int layer, std::span<const Share> key_rows, SecureLayerCache& cache) override;
  AttendingRows attending(int, std::span<const Share>, const SecureLayerCache&) override { return {}; }
  void on_attention(int layer, std::span<const Share> probs, SecureLayerCache& cache) override;

  // H2O: the accumulated scores of an adopted cache (per key/value head, 1 x rows, fixed point),
  // e.g. from the cache source's plaintext prefill. Call after begin(), before on_prefill.
  void adopt_scores(int layer, std::vector<Share> per_kv_head_scores);
  // H2O: the current scores of a layer (per key/value head, 1 x rows); tests and diagnostics.
  const std::vector<Share>& scores(int layer) const { return scores_.at(static_cast<std::size_t>(layer)); }

 private:
  std::vector<Share> group_sums(std::span<const Share> per_query_head) const;
  void score_prompt(int layer, const PromptAttention& prompt, const SecureLayerCache& cache);
  std::vector<Share> evicted_one_hots(const std::vector<Share>& scores, int rows);
  void remove_rows(int layer, const std::vector<Share>& evicted, SecureLayerCache& cache);

  protocols::ops::SecureOps& ops_;
  ScoreRule rule_;
  int kv_heads_;
  int group_;
  int budget_;
  int recent_;
  std::vector<std::vector<Share>> scores_;  // H2O: [layer][kv head], 1 x rows
};

}  // namespace kvcache::secure
