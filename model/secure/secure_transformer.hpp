// GPT-2 and LLaMA-style inference on secret shares: P0 inputs the weights, P1 inputs the prompt, and the parties
// (with the 2PC dealer or P2) run prefill and greedy decoding. The KV cache stays secret-shared
// between steps; each generated token is revealed to P1 only (secure argmax), and P1's next input
// is that token's secret one-hot, reused directly so that no party, P1 included, re-inputs it.
//
// Control flow depends on public data only (config, prompt length, number of tokens), so the 2PC
// dealer runs this same code with shape-only shares. Prefill is one batched pass over the whole
// prompt with a public causal mask; decode processes one token against all cached rows.
//
// Traffic is accounted in the phases "weights" (sharing and masking the weights), "prefill" (the
// prompt and the first token) and "decode" (every further token).
#pragma once

#include "kvcache/secure/secure_cache_policy.hpp"
#include "model/config.hpp"
#include "model/secure/secure_tokens.hpp"
#include "model/secure/secure_weights.hpp"
#include "model/secure/value_widths.hpp"
#include "model/weights.hpp"
#include "net/operator_profile.hpp"
#include "protocols/ops/secure_ops.hpp"
#include "protocols/protocol.hpp"

#include <optional>
#include <span>
#include <vector>

namespace model::secure {

inline constexpr const char* kPrefillPhase = "prefill";
inline constexpr const char* kDecodePhase = "decode";

class SecureTransformer {
 public:
  // Shares and masks the weights (phase "weights") in the open `session`, whose operators it
  // shares with the cache policy, and agrees on the comparison widths P0 derives from its weights
  // (value_widths.hpp). Only P0 passes `owner_weights`; the others pass nullptr and build the
  // same program from `config`.
  SecureTransformer(protocols::Session& session, const ModelConfig& config, const TransformerWeights* owner_weights,
                    protocols::ops::OpsOptions options = {});

  const ModelConfig& config() const { return config_; }
  int position() const { return position_; }  // tokens processed (the cache may hold fewer)
  int cache_rows() const { return cache_.empty() ? 0 : cache_.front().rows(); }

  // The cache policy of the following sequences (not owned; nullptr = every cached row attends).
  // It decides at prefill what stays cached and at each decode step which rows attend.
  void set_cache_policy(kvcache::secure::SecureCachePolicy* policy) { policy_ = policy; }

  // Starts a new sequence with P1's prompt (`prompt_tokens` on P1, ignored elsewhere; its length
  // `prompt_length` is public) and returns the secret logits of the last prompt position (1 x vocab).
  Share prefill(std::span<const int> prompt_tokens, int prompt_length);
  // Starts a sequence whose first `length` tokens are already cached: secret keys and values per
  // layer and per key/value head (`length` x head_dim, fixed point, keys as the engine caches
  // them: after RoPE, unscaled). Used by the long-context benchmark, which fills them from a
  // plaintext prefill; nothing here can check where they came from.
  // `tokens_processed` (>= length) is the position of the next token: a cache whose prompt-time
  // eviction already ran holds fewer rows than tokens seen (default: length). The shares are taken
  // over and fixed a layer at a time, each layer's freed once fixed (pass them with std::move).
  void adopt_cache(std::vector<std::vector<Share>> keys, std::vector<std::vector<Share>> values, int length,
                   std::optional<int> tokens_processed = std::nullopt);
  // Drops the cached keys and values (and their masks): the next sequence starts from prefill or
  // adopt_cache. Lets a caller free one sequence's cache before building the next.
  void release_cache();
  // Ring elements of the secret weights and the cached keys and values (public shapes only).
  SecretElements secret_elements() const;
  // Appends the token given by its secret one-hot (1 x vocab) and returns its secret logits.
  Share decode(const Share& token_one_hot);
  // Secure argmax of the logits of the last forward pass or decode step (1 x vocab), compared on
  // the bits their proven bound needs; the index is revealed to P1 only.
  NextToken greedy_token(const Share& logits);
  // The comparison widths in effect (the same on every party).
  const ValueWidths& value_widths() const { return widths_; }
  // A draw from softmax(logits / temperature) by the Gumbel-max trick (model/gumbel_sampling.hpp):
  // P1 inputs its own secret noise (`user_noise`, 1 x vocab, on P1 only), then the secure argmax.
  // The temperature is public. Revealed to P1 only.
  NextToken sampled_token(const Share& logits, double temperature, const Eigen::RowVectorXd* user_noise);

  // Prefill, then greedy decoding of `new_tokens` tokens. Returns them on P1, empty elsewhere.
  std::vector<int> generate(std::span<const int> prompt_tokens, int prompt_length, int new_tokens);
  // The secret logits from which the last generated token was chosen (for verification).
  const Share& last_logits() const { return last_logits_; }

 private:
  using LayerCache = kvcache::secure::SecureLayerCache;

  Share forward(const Share& tokens_one_hot);
  Share embed(const Share& tokens_one_hot);
  Share attention_block(int layer, const Share& x);
  // Attention of the new rows over the cache; `append` first grows the cache by qkv's K and V rows.
  Share attend(int layer, const Share& qkv, bool append, Share* probabilities = nullptr);
  std::vector<Share> query_heads(const Share& qkv) const;
  Share attention_probabilities(int layer, const Share& scores, const kvcache::secure::Selection& rows,
                                Eigen::Index new_rows);
  std::vector<Share> cache_rows(const Share& qkv) const;
  void start_cache(int layer, const Share& qkv);
  std::vector<Share> append_and_score(int layer, const Share& qkv, std::span<const Share> queries,
                                      std::span<const protocols::FixedOperand* const> keys);
  Share mlp_block(int layer, const Share& x);
  // GPT-2: LayerNorm with the rows' means taken from residual_mean_ (its rows `first_row` ..).
  Share normalize(const Share& x, const Share& gain, const Share& bias, Eigen::Index first_row = 0);
  // x at F + raw_bits fraction bits; the result at F.
  Share activate(int layer, const Share& x, int raw_bits = 0);
  net::ProfileScope profiled(const char* operator_class);
  bool gpt2() const { return config_.architecture == Architecture::Gpt2; }
  // x . w + bias for x at F (or, with x_frac_bits = 2F, an untruncated product: one truncation by 2F).
  Share linear(const Share& x, const protocols::FixedOperand& w, const Share& bias, int x_frac_bits = 0);
  // Whether the layer's p . V enters the output projection untruncated (value_widths.hpp).
  bool fused_output_truncation(int layer) const;
  Share logits_of_last_row(const Share& x);
  void check_room(int new_rows) const;

  Protocol& proto_;
  ModelConfig config_;
  protocols::ops::SecureOps ops_;
  SecureWeights weights_;
  ValueWidths widths_;
  std::vector<LayerCache> cache_;
  kvcache::secure::SecureCachePolicy* policy_ = nullptr;
  int position_ = 0;
  Share last_logits_;
  // GPT-2: the mean of every row of the residual stream during a forward pass, which no layer
  // changes (its writes sum to zero: zero_sum_writes.hpp); rows x 1.
  Share residual_mean_;
};

}  // namespace model::secure
