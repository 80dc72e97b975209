// The cache-policy interface of the secure engine (model/secure/secure_transformer.hpp): the
// counterpart of kvcache/policy.hpp on secret shares, with the same vocabulary and hook order.
// Every decision a policy takes stays secret (one-hot products, never an opened index);
// everything that shapes the program (how many rows are kept or attend) is public and depends
// only on lengths and parameters (kvcache/rules/policy_counts.hpp, shared with the plaintext
// twin), so the 2PC dealer runs the same code on shape-only shares.
//
// Call sequence, for every layer l:
//   once:     policy.begin(shape, prompt_length)            -> the public counts for this prompt
//   prefill / adopted cache:  (the prompt's attention runs) policy.on_prefill(l, prompt_attention, cache)
//                             -> may compact the cache; after the last layer policy.on_prefill_done(layers)
//   decode:  the engine appends the new key/value row of every head (and takes the queries' scores
//            against the grown keys in the same round), then
//            policy.on_append(l, key_rows, cache)
//            rows = policy.select(l, queries, cache)       -> which rows attend (Selection)
//            (attention over rows)
//            policy.on_attention(l, probs, cache)          -> observed probabilities (H2O, TOVA)
// A cache adopted from a plaintext source (parties/decode_bench_job) may carry prompt-time state
// the source computed; adopt_prompt_state hands it to the policy before the cache is adopted.
//
// Work done inside a policy is charged to the profile classes below (net/operator_profile.hpp).
#pragma once

#include "kvcache/cluster_boxes.hpp"
#include "kvcache/policy.hpp"
#include "protocols/ops/share_layout.hpp"
#include "protocols/protocol.hpp"

#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace kvcache::secure {

using protocols::FixedOperand;
using protocols::Share;

inline constexpr const char* kProfileSelectionBoxes = "selection.boxes";      // bounding-box upkeep
inline constexpr const char* kProfileSelectionScores = "selection.scores";    // cluster / page / token scores
inline constexpr const char* kProfileSelectionTopK = "selection.topk";        // secret top-k
inline constexpr const char* kProfileSelectionGather = "selection.gather";    // one-hot gathering of rows
inline constexpr const char* kProfileEviction = "eviction";                   // static or per-step eviction

// One layer's cache as the secure engine keeps it: one fixed operand (masked once) per key/value
// head, rows = cached tokens; every head has the same number of rows.
struct SecureLayerCache {
  std::vector<FixedOperand> keys, values;
  int rows() const { return keys.empty() ? 0 : static_cast<int>(keys.front().value.rows()); }
  int kv_heads() const { return static_cast<int>(keys.size()); }
};

// What the prompt pass of one layer computed, handed to the policy so that prompt-time rules
// (static eviction's window votes, H2O's accumulated scores) need no attention of their own: the
// causal attention probabilities of every query head over the n prompt rows, stacked (heads * n x
// n, fixed point: row h * n + i is prompt position i of query head h, exactly 0 right of the
// diagonal). Refers to the engine's share, valid during the on_prefill call only. Empty for an
// adopted cache (its source already ran any prompt-time work).
class PromptAttention {
 public:
  PromptAttention() = default;
  PromptAttention(const Share& stacked, int heads) : probabilities_(&stacked), heads_(heads) {
    if (heads < 1 || stacked.rows() != Eigen::Index{heads} * stacked.cols())
      throw std::invalid_argument("prompt attention must be heads * n x n with at least one head");
  }
  bool empty() const { return probabilities_ == nullptr; }
  int heads() const { return heads_; }
  Eigen::Index rows() const { return empty() ? 0 : probabilities_->cols(); }
  const Share& stacked() const {
    if (empty()) throw std::logic_error("prompt attention: none was computed (adopted cache)");
    return *probabilities_;
  }
  // Query head h's probabilities, n x n.
  Share head(int h) const { return protocols::ops::rows_of(stacked(), Eigen::Index{h} * rows(), rows()); }

 private:
  const Share* probabilities_ = nullptr;
  int heads_ = 0;
};

// The rows that attend at one decode step, the same description for every key/value head:
//  - `public_rows`: rows that always attend (increasing), e.g. sinks, forced clusters, the tail;
//  - `chosen[g]`: for key/value head g, a secret k x G one-hot (integers) of groups of
//    `group_size` consecutive rows (group c = rows [c*s, (c+1)*s), G = floor(rows / s)); empty
//    when k = 0. Chosen groups never contain a public row (the policy guarantees it).
// `all` means every cached row attends (the other fields are ignored).
//
// The engine does NOT gather keys and values: it scores the query against the whole cache (only the
// query is opened), picks the chosen groups' scores by one product with the one-hot (opening the
// one-hot and one score per row), runs the softmax over the m attending rows only, maps the
// probabilities back by the transposed one-hot and multiplies them with the whole value cache
// (only one probability per row is opened). Gathering keys and values instead would open m x d
// entries per head twice per step.
struct Selection {
  bool all = true;
  int group_size = 0;
  std::vector<Share> chosen;
  std::vector<int> public_rows;

  int chosen_groups() const { return chosen.empty() ? 0 : static_cast<int>(chosen.front().rows()); }
  int attended(int cache_rows) const {
    return all ? cache_rows : chosen_groups() * group_size + static_cast<int>(public_rows.size());
  }
};

// Prompt-time state a plaintext cache source computed for the cache it shares: P0 (the model
// owner, `owner`) knows it, every other party holds an empty source and receives shares. A policy
// takes what its rule needs (cluster or page boxes, accumulated scores) in adopt_prompt_state.
class PromptStateSource {
 public:
  virtual ~PromptStateSource() = default;
  virtual int owner() const = 0;
  // Whether this party knows the state (the owner) or only inputs its shape.
  virtual bool known() const = 0;
  // The layers, and the rows of every layer's cache, the state describes (public).
  virtual int layers() const = 0;
  virtual int rows() const = 0;
  // Per key/value head of `layer`: the plaintext boxes of its keys under `params` (owner only).
  virtual std::vector<PlainHeadBoxes> boxes(int layer, const ClusterSelectionParams& params) const = 0;
  // Per key/value head of `layer`: the accumulated attention score of each cached row (owner
  // only; empty when the source keeps none).
  virtual std::vector<std::vector<double>> accumulated_scores(int layer) const = 0;
};

class SecureCachePolicy {
 public:
  virtual ~SecureCachePolicy() = default;
  virtual std::string name() const = 0;

  // Once per sequence, before the first layer's prefill: the model's shape and the prompt (or
  // adopted cache's) length, from which the policy's public counts follow.
  virtual void begin(const ModelShape& shape, int prompt_length) {
    shape_ = shape;
    prompt_length_ = prompt_length;
  }
  // Before a cache from a plaintext source is adopted: the state that source computed at prompt
  // time (the policy keeps what it needs; most need nothing).
  virtual void adopt_prompt_state(const PromptStateSource& source) {}
  // After the prompt's keys and values of `layer` are cached and its attention ran; `prompt` is
  // that attention (empty when the cache was adopted: the cache source already applied any
  // prompt-time eviction).
  virtual void on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) {}
  // Once the prompt has passed every layer (or the adopted cache is in place): every layer's cache.
  // A policy may defer per-layer prompt-time work to here and do it for all layers in the rounds of
  // one (no layer's prompt pass reads another layer's cache, so the result is the same).
  virtual void on_prefill_done(std::span<SecureLayerCache> layers) {}
  // After the newest token's row was appended to every head (`key_rows`: 1 x head_dim per head).
  virtual void on_append(int layer, std::span<const Share> key_rows, SecureLayerCache& cache) {}
  // The rows that attend; `queries`: per query head, 1 x head_dim. Query head h reads key/value
  // head h / (query heads / key/value heads).
  virtual Selection select(int layer, std::span<const Share> queries, const SecureLayerCache& cache) {
    return {};
  }
  // The attention probabilities of every query head over the whole cache (1 x rows each; exactly 0
  // on rows that did not attend).
  virtual void on_attention(int layer, std::span<const Share> probs, SecureLayerCache& cache) {}

 protected:
  ModelShape shape_;
  int prompt_length_ = 0;
};

}  // namespace kvcache::secure
