// The cache-policy interface of the plaintext engine; the secure engine's
// (kvcache/secure/secure_cache_policy.hpp) has the same vocabulary and hook order, and both forms
// of a policy take their public counts from kvcache/rules. Call sequence per generation:
//
//   once:     policy.begin(shape, prompt_length)
//   prefill:  per layer l, the engine fills cache.heads[g] with the prompt's keys/values (positions
//             0..n-1) and runs the prompt's attention over them, then
//             policy.on_prefill(l, queries, cache)       -> the policy may evict rows (cache.heads[g].keep)
//             and after the last layer policy.on_prefill_done(every layer's cache)
//   decode:   the engine appends the new token's key/value row to every head, then
//             policy.on_append(l, cache)                 -> may update metadata or evict/compress
//             sel = policy.select(l, query, cache)        -> which rows attend, per key/value head
//             if (!policy.attend(l, query, cache, sel, out)) the engine runs dense attention over sel
//             policy.on_attention(l, probs, sel, cache)   -> observed attention (H2O, TOVA accumulate)
//
// `queries` / `query`: one matrix per QUERY head (n x head_dim at prefill, 1 x head_dim at decode;
// post-RoPE where the model uses RoPE). With grouped-query attention, query head h reads key/value
// head h / (query_heads / kv_heads).
#pragma once

#include "kvcache/layer_cache.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace kvcache {

// How many tokens a policy may keep or attend: a ratio of the prompt length or an absolute count.
struct Budget {
  double ratio = 1.0;  // used when tokens <= 0
  int tokens = 0;

  int resolve(int prompt_length) const;  // at least 1, at most prompt_length
};

// Rows that attend at one decode step, per key/value head. An empty optional means "all rows".
struct Selection {
  std::vector<std::optional<std::vector<int>>> rows;

  static Selection all(int kv_heads) { return Selection{std::vector<std::optional<std::vector<int>>>(kv_heads)}; }
  int attended(int head, const HeadCache& cache) const {
    return rows[head] ? static_cast<int>(rows[head]->size()) : cache.size();
  }
};

struct ModelShape {
  int layers = 0;
  int query_heads = 0;
  int kv_heads = 0;
  int head_dim = 0;
  int group() const { return query_heads / kv_heads; }  // query heads per key/value head
};

class CachePolicy {
 public:
  virtual ~CachePolicy() = default;
  virtual std::string name() const = 0;

  // Called once before a generation with the model's shape and the prompt length.
  virtual void begin(const ModelShape& shape, int prompt_length) { shape_ = shape; prompt_length_ = prompt_length; }

  virtual void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {}
  virtual void on_prefill_done(std::span<LayerCache> layers) {}
  virtual void on_append(int layer, LayerCache& cache) {}
  virtual Selection select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) {
    return Selection::all(cache.kv_heads());
  }
  // A policy that stores the cache in its own format (e.g. sparse) computes attention itself:
  // fills `out` (one 1 x head_dim row per query head) and returns true.
  virtual bool attend(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache,
                      const Selection& selection, std::vector<FloatMatrix>& out) {
    return false;
  }
  // Attention probabilities of each query head over the rows it attended (in selection order).
  virtual void on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const Selection& selection,
                            LayerCache& cache) {}

  // The attention each cached row of key/value head `kv_head` has accumulated, for a policy that
  // keeps such scores (H2O): what a secure twin adopts with the cache. Empty for the others.
  virtual std::vector<double> accumulated_scores(int layer, int kv_head) const { return {}; }

 protected:
  ModelShape shape_;
  int prompt_length_ = 0;
};

}  // namespace kvcache
