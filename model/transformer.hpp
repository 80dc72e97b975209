// Plaintext (double precision) transformer for GPT-2 and LLaMA-style checkpoints, with a KV cache
// per layer and an optional cache policy. It is the non-private baseline and the reference the
// secure engine is checked against.
//
// Policy call sequence (see kvcache/policy.hpp): prefill() calls begin() once, then per layer
// fills the cache with the prompt's keys/values, runs the prompt's attention and calls
// on_prefill(), and after the last layer on_prefill_done(); decode() per layer appends
// the new row, then calls on_append(), select(), attend() and on_attention(). When attend()
// computes the attention itself the engine has no probabilities and passes an empty vector to
// on_attention(). A null policy keeps the full cache and attends to every row.
#pragma once

#include "kvcache/layer_cache.hpp"
#include "kvcache/policy.hpp"
#include "model/weights.hpp"

#include <span>
#include <vector>

namespace model {

// Per-layer internals of a forward pass over a whole sequence.
struct ForwardTrace {
  std::vector<FloatMatrix> layer_inputs;  // residual stream entering each layer (tokens x hidden)
  FloatMatrix final_hidden;               // after the final norm (tokens x hidden)
};

struct PrefillSnapshot {
  std::vector<kvcache::LayerCache> cache;                // every prompt row
  std::vector<std::vector<FloatMatrix>> layer_queries;   // per layer, per query head (n x head_dim)
  int length = 0;
  Vector last_logits;
};

class Transformer {
 public:
  // Keeps a reference: `weights` must outlive the engine.
  explicit Transformer(const TransformerWeights& weights);
  explicit Transformer(TransformerWeights&&) = delete;  // would dangle

  const ModelConfig& config() const { return weights_.config; }

  // Logits for every position of `tokens` (tokens x vocab), no cache involved.
  FloatMatrix forward_all(std::span<const int> tokens, ForwardTrace* trace = nullptr) const;

  // Starts a new sequence: clears the cache, runs the prompt, lets `policy` compact the cache and
  // returns the logits of the last prompt position. The policy (may be null) stays in use for
  // the following decode() calls and must outlive them.
  Vector prefill(std::span<const int> tokens, kvcache::CachePolicy* policy = nullptr);
  // A prefill without a policy that also keeps what a policy would have seen (the per-layer
  // query heads and the full cache), so that decoding can start from it several times, each with
  // another policy (see resume()), without recomputing the prompt.
  PrefillSnapshot prefill_snapshot(std::span<const int> tokens);
  // Continues from `snapshot` as if prefill(tokens, policy) had run (the policy compacts a copy of
  // the snapshot's cache); returns the snapshot's last logits. `policy` may be null.
  Vector resume(const PrefillSnapshot& snapshot, kvcache::CachePolicy* policy);
  // The same, taking over the snapshot's cache instead of copying it (the last use of a snapshot).
  Vector resume(PrefillSnapshot&& snapshot, kvcache::CachePolicy* policy);
  // Appends one token at the next position and returns its logits.
  Vector decode(int token);

  int position() const { return position_; }  // tokens processed since prefill
  const std::vector<kvcache::LayerCache>& cache() const { return cache_; }

 private:
  struct Projections {
    FloatMatrix q, k, v;  // tokens x heads*head_dim, tokens x kv_heads*head_dim (post-RoPE)
  };

  FloatMatrix embed(std::span<const int> tokens, int first_position) const;
  Projections project(int layer, const FloatMatrix& normed, int first_position) const;
  FloatMatrix causal_attention(const Projections& p) const;
  FloatMatrix decode_attention(int layer, const Projections& p);
  FloatMatrix finish_layer(int layer, const FloatMatrix& x, const FloatMatrix& attention) const;
  FloatMatrix mlp(int layer, const FloatMatrix& x) const;
  FloatMatrix logits(const FloatMatrix& hidden) const;
  std::vector<FloatMatrix> query_heads(const FloatMatrix& q) const;
  void fill_cache(int layer, const Projections& p, int first_position);
  Vector resume_with(std::vector<kvcache::LayerCache> cache, const PrefillSnapshot& snapshot, kvcache::CachePolicy* policy);
  Vector run_prompt(std::span<const int> tokens, std::vector<std::vector<FloatMatrix>>* layer_queries);

  const TransformerWeights& weights_;
  std::vector<kvcache::LayerCache> cache_;
  kvcache::CachePolicy* policy_ = nullptr;
  int position_ = 0;
};

}  // namespace model
