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
#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "protocols/ops/secure_ops.hpp"

#include <optional>
#include <span>
#include <utility>
#include <vector>

namespace kvcache::secure {

enum class ScoreRule {
  Accumulated,  // H2O
  Current,      // TOVA
};

class SecureScoreEviction final : public SecureCachePolicy {
 public:
  SecureScoreEviction(protocols::ops::SecureOps& ops, ScoreRule rule, const PolicyConfig& config);

  std::string name() const override { return rule_ == ScoreRule::Accumulated ? "h2o" : "tova"; }
  // The public rows kept between steps and, among them, the newest ones never evicted (H2O's
  // recent window, none for TOVA): rules::h2o_counts / tova_counts of the prompt length.
  int budget() const { return counts_.capacity; }
  int recent() const { return counts_.recent; }

  void begin(const ModelShape& shape, int prompt_length) override;
  // H2O: keeps the source's accumulated scores of the adopted rows; they are input (by the
  // source's owner) when the adopted cache reaches on_prefill.
  void adopt_prompt_state(const PromptStateSource& source) override;
  // On a private prefill, H2O scores every row by the causal attention of all prompt queries (the
  // plaintext votes), summed from the prompt pass's own probabilities (no round). A cache above the
  // budget is not cut here: that needs a position-ordered compaction (done by the cache source for
  // adopted caches), so it throws std::logic_error.
  void on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) override;
  void on_prefill_done(std::span<SecureLayerCache>) override { adopted_.reset(); }
  void on_append(int layer, std::span<const Share> key_rows, SecureLayerCache& cache) override;
  Selection select(int, std::span<const Share>, const SecureLayerCache&) override { return {}; }
  void on_attention(int layer, std::span<const Share> probs, SecureLayerCache& cache) override;

  // H2O: the current scores of a layer (per key/value head, 1 x rows); tests and diagnostics.
  const std::vector<Share>& scores(int layer) const { return scores_.at(static_cast<std::size_t>(layer)); }

 private:
  std::vector<Share> group_sums(std::span<const Share> per_query_head) const;
  std::vector<Share> input_adopted_scores(int layer, int rows) const;
  void score_prompt(int layer, const PromptAttention& prompt, const SecureLayerCache& cache);
  std::vector<Share> evicted_one_hots(const std::vector<Share>& scores, int rows);
  void remove_rows(int layer, const std::vector<Share>& evicted, SecureLayerCache& cache);

  protocols::ops::SecureOps& ops_;
  ScoreRule rule_;
  PolicyConfig config_;
  rules::ScoreEvictionCounts counts_;
  std::vector<std::vector<Share>> scores_;  // H2O: [layer][kv head], 1 x rows
  // H2O, an adopted cache: the source's scores [layer][kv head] (its owner only) and who inputs them.
  std::optional<std::pair<int, std::vector<std::vector<std::vector<double>>>>> adopted_;
};

}  // namespace kvcache::secure
