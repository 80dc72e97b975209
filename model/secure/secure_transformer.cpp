#include "model/secure/secure_transformer.hpp"

#include "model/secure/adopted_cache_checks.hpp"
#include "model/secure/attending_rows.hpp"
#include "model/secure/secure_rotary.hpp"
#include "net/stats.hpp"
#include "protocols/ops/share_layout.hpp"

#include <spdlog/spdlog.h>

#include <iterator>
#include <stdexcept>
#include <string>
#include <utility>

namespace model::secure {

namespace {

using mpc::RingMatrix;
using protocols::Role;
using protocols::ops::columns;
using protocols::ops::concat_columns;
using protocols::ops::concat_rows;
using protocols::map_components;
using protocols::ops::rows_of;

// A 1 x cols bias repeated for every row of a block (local).
Share broadcast_rows(const Share& row, Eigen::Index rows) {
  return map_components(row, [rows](const RingMatrix& m) -> RingMatrix { return m.replicate(rows, 1); });
}

}  // namespace

SecureTransformer::SecureTransformer(protocols::Session& session, const ModelConfig& config,
                                     const TransformerWeights* owner_weights, protocols::ops::OpsOptions options)
    : proto_(session.protocol()),
      config_(config),
      ops_(session, options),
      weights_([&] {
        if (owner_weights && session.comparisons() == protocols::Comparisons::fss)
          check_norm_gains(*owner_weights, protocols::ops::kMaxNormGain);
        return share_weights(proto_, config, owner_weights);
      }()),
      widths_(agree_value_widths(proto_, config, owner_weights)) {}

net::ProfileScope SecureTransformer::profiled(const char* operator_class) {
  return net::ProfileScope(proto_.mesh().profile(), operator_class);
}

void SecureTransformer::check_room(int new_rows) const {
  if (position_ + new_rows > config_.max_positions)
    throw std::out_of_range("sequence of " + std::to_string(position_ + new_rows) + " tokens exceeds the model's context of " +
                            std::to_string(config_.max_positions) + " positions");
}

Share SecureTransformer::prefill(std::span<const int> prompt_tokens, int prompt_length) {
  if (prompt_length < 1) throw std::invalid_argument("prefill needs at least one prompt token");
  cache_.assign(static_cast<std::size_t>(config_.layers), LayerCache{});
  position_ = 0;
  check_room(prompt_length);
  net::PhaseScope phase(proto_.mesh().stats(), kPrefillPhase);
  const bool user = proto_.role() == Role::P1;
  RingMatrix one_hot;
  if (user) one_hot = prompt_one_hot(config_, prompt_tokens, prompt_length);
  if (policy_) policy_->begin(config_.shape(), prompt_length);
  return forward(proto_.input(1, user ? &one_hot : nullptr, prompt_length, config_.vocab_size));
}

SecretElements SecureTransformer::secret_elements() const {
  SecretElements e = model::secure::secret_elements(weights_);
  for (const LayerCache& layer : cache_)
    for (const auto* heads : {&layer.keys, &layer.values})
      for (const protocols::FixedOperand& h : *heads) e.fixed += element_count(h);
  return e;
}

void SecureTransformer::release_cache() {
  cache_.assign(static_cast<std::size_t>(config_.layers), LayerCache{});
  position_ = 0;
}

void SecureTransformer::adopt_cache(std::vector<std::vector<Share>> keys, std::vector<std::vector<Share>> values,
                                    int length, std::optional<int> tokens_processed) {
  const int next_position = tokens_processed.value_or(length);
  check_adopted_cache(config_, keys, values, length, next_position);
  position_ = 0;
  check_room(next_position);
  net::PhaseScope phase(proto_.mesh().stats(), kPrefillPhase);
  cache_.assign(static_cast<std::size_t>(config_.layers), LayerCache{});
  // A layer at a time (a round each, or more for a long cache: fix_bounded), so that the shares
  // still to be fixed and the fixed ones are never both held for the whole cache.
  for (int l = 0; l < config_.layers; ++l) {
    std::vector<Share> layer_shares = std::move(keys[l]);
    std::move(values[l].begin(), values[l].end(), std::back_inserter(layer_shares));
    values[l] = {};
    std::vector<protocols::FixedOperand> fixed = proto_.fix_bounded(std::move(layer_shares));
    auto next = std::make_move_iterator(fixed.begin());
    cache_[l].keys.assign(next, next + config_.kv_heads);
    cache_[l].values.assign(next + config_.kv_heads, next + 2 * config_.kv_heads);
  }
  position_ = next_position;
  if (!policy_) return;
  policy_->begin(config_.shape(), next_position);
  for (int l = 0; l < config_.layers; ++l) policy_->on_prefill(l, kvcache::secure::PromptAttention{}, cache_[l]);
  policy_->on_prefill_done(cache_);
}

Share SecureTransformer::decode(const Share& token_one_hot) {
  if (cache_.empty()) throw std::logic_error("decode() called before prefill()");
  if (token_one_hot.rows() != 1 || token_one_hot.cols() != config_.vocab_size)
    throw std::invalid_argument("decode takes a 1 x vocab one-hot share");
  check_room(1);
  net::PhaseScope phase(proto_.mesh().stats(), kDecodePhase);
  return forward(token_one_hot);
}

NextToken SecureTransformer::greedy_token(const Share& logits) {
  const auto scope = profiled("argmax");
  return model::secure::greedy_token(ops_, logits, widths_.logits);
}

NextToken SecureTransformer::sampled_token(const Share& logits, double temperature, const Eigen::RowVectorXd* user_noise) {
  Share perturbed;
  {
    const auto scope = profiled("sampling");
    perturbed = gumbel_perturbed(ops_, logits, temperature, user_noise);
  }
  const auto scope = profiled("argmax");
  return model::secure::greedy_token(ops_, perturbed);  // noise and temperature: the whole ring
}

std::vector<int> SecureTransformer::generate(std::span<const int> prompt_tokens, int prompt_length, int new_tokens) {
  if (new_tokens < 1) throw std::invalid_argument("generate needs at least one new token");
  // The last generated token is never fed back, hence the - 1; checked before any work is done.
  if (prompt_length + new_tokens - 1 > config_.max_positions)
    throw std::out_of_range("prompt of " + std::to_string(prompt_length) + " tokens plus " + std::to_string(new_tokens) +
                            " new tokens exceeds the model's context of " + std::to_string(config_.max_positions));
  std::vector<int> generated;
  last_logits_ = prefill(prompt_tokens, prompt_length);
  for (int i = 0; i < new_tokens; ++i) {
    net::PhaseScope phase(proto_.mesh().stats(), i == 0 ? kPrefillPhase : kDecodePhase);
    NextToken next = greedy_token(last_logits_);
    if (next.token) generated.push_back(*next.token);
    if (i + 1 < new_tokens) last_logits_ = decode(next.one_hot);
  }
  return generated;
}

Share SecureTransformer::forward(const Share& tokens_one_hot) {
  const Eigen::Index new_rows = tokens_one_hot.rows();
  const bool prompt = position_ == 0;
  Share x = embed(tokens_one_hot);
  if (gpt2()) {
    const auto scope = profiled("norm");
    residual_mean_ = ops_.row_mean(x);
  }
  for (int l = 0; l < config_.layers; ++l) {
    x = mlp_block(l, attention_block(l, x));
    if (new_rows > 1)  // a prefill: long enough to be worth progress lines
      spdlog::info("party {}: prefill of {} tokens, layer {}/{} done", proto_.mesh().self(), new_rows, l + 1,
                   config_.layers);
  }
  if (prompt && policy_) policy_->on_prefill_done(cache_);
  position_ += static_cast<int>(new_rows);
  return logits_of_last_row(x);
}

// one-hot (integers) . wte (fixed point) is already at F fraction bits: no truncation.
Share SecureTransformer::embed(const Share& tokens_one_hot) {
  const auto scope = profiled("embedding");
  const Share tokens = proto_.matmul_fixed(tokens_one_hot, weights_.token_embedding);
  if (!gpt2()) return tokens;  // LLaMA encodes positions by rotating q and k
  return proto_.add(tokens, rows_of(weights_.position_embedding, position_, tokens_one_hot.rows()));
}

Share SecureTransformer::normalize(const Share& x, const Share& gain, const Share& bias, Eigen::Index first_row) {
  const auto scope = profiled("norm");
  if (gpt2()) {
    const Share means = rows_of(residual_mean_, first_row, x.rows());
    return ops_.layer_norm(x, gain, bias, config_.norm_eps, &means);
  }
  return ops_.rms_norm(x, gain, config_.norm_eps);
}

Share SecureTransformer::activate(int layer, const Share& x, int raw_bits) {
  const auto scope = profiled("activation");
  const int bits = widths_.activation[static_cast<std::size_t>(layer)];
  // GeLU's tanh and erf forms differ by < 1e-3, below the approximation's own error budget.
  return config_.activation == Activation::Silu ? ops_.silu(x, bits, raw_bits) : ops_.gelu(x, bits, raw_bits);
}

Share SecureTransformer::linear(const Share& x, const protocols::FixedOperand& w, const Share& bias, int x_frac_bits) {
  const auto scope = profiled("linear");
  const int bits = x_frac_bits > 0 ? x_frac_bits : proto_.fixed_point().frac_bits();
  return proto_.add(proto_.truncate(proto_.matmul_fixed(x, w), bits), broadcast_rows(bias, x.rows()));
}

bool SecureTransformer::fused_output_truncation(int layer) const {
  return fits_one_truncation_of_two_products(widths_.attention_output[static_cast<std::size_t>(layer)],
                                             proto_.fixed_point().frac_bits());
}

Share SecureTransformer::attention_block(int layer, const Share& x) {
  const SecureLayerWeights& w = weights_.layers[layer];
  const Share normed = normalize(x, w.attn_norm_gain, w.attn_norm_bias);
  const Share projected = linear(normed, w.qkv, w.qkv_bias);
  Share qkv = projected;
  if (!gpt2()) {
    const auto scope = profiled("rotary");
    qkv = rotate_positions(proto_, config_, projected, position_);
  }
  const bool prompt = cache_[layer].keys.empty();
  if (prompt) start_cache(layer, qkv);
  Share prompt_probabilities;
  const Share attended = attend(layer, qkv, !prompt, prompt ? &prompt_probabilities : nullptr);
  if (prompt && policy_)
    policy_->on_prefill(layer, kvcache::secure::PromptAttention(prompt_probabilities, config_.heads), cache_[layer]);
  const int f = proto_.fixed_point().frac_bits();
  return proto_.add(x, linear(attended, w.out, w.out_bias, fused_output_truncation(layer) ? 2 * f : f));
}

// One share per query head (rows x head_dim), already scaled by 1/sqrt(d) through the weights.
std::vector<Share> SecureTransformer::query_heads(const Share& qkv) const {
  std::vector<Share> queries;
  for (int h = 0; h < config_.heads; ++h) queries.push_back(columns(qkv, h * config_.head_dim, config_.head_dim));
  return queries;
}

// The new K rows of every key/value head, then the new V rows.
std::vector<Share> SecureTransformer::cache_rows(const Share& qkv) const {
  const int kv_heads = config_.kv_heads, d = config_.head_dim;
  const Eigen::Index keys_at = config_.heads * d, values_at = keys_at + kv_heads * d;
  std::vector<Share> rows;
  for (int g = 0; g < kv_heads; ++g) rows.push_back(columns(qkv, keys_at + g * d, d));
  for (int g = 0; g < kv_heads; ++g) rows.push_back(columns(qkv, values_at + g * d, d));
  return rows;
}

// The prompt's K and V rows are masked once here; later steps reuse the mask (see protocol.hpp).
void SecureTransformer::start_cache(int layer, const Share& qkv) {
  const auto scope = profiled("attention.cache_append");
  std::vector<protocols::FixedOperand> fixed = proto_.fix(cache_rows(qkv));
  LayerCache& cache = cache_[layer];
  const auto kv_heads = static_cast<std::ptrdiff_t>(config_.kv_heads);
  cache.keys.assign(std::make_move_iterator(fixed.begin()), std::make_move_iterator(fixed.begin() + kv_heads));
  cache.values.assign(std::make_move_iterator(fixed.begin() + kv_heads), std::make_move_iterator(fixed.end()));
}

// Appends the new K and V rows (each masked once) and takes the queries' products with the grown
// keys in the same round (2PC opens the rows beside the queries); then the policy sees the rows.
// No policy changes the cache's rows on append, so taking the scores before on_append and select
// gives what taking them after would.
std::vector<Share> SecureTransformer::append_and_score(int layer, const Share& qkv, std::span<const Share> queries,
                                                       std::span<const protocols::FixedOperand* const> keys) {
  LayerCache& cache = cache_[layer];
  const std::vector<Share> rows = cache_rows(qkv);
  std::vector<protocols::FixedOperand*> operands;
  for (auto& k : cache.keys) operands.push_back(&k);
  for (auto& v : cache.values) operands.push_back(&v);
  std::vector<Share> products;
  {
    const auto scope = profiled("attention.scores");
    products = proto_.append_rows_and_matmul_fixed_transposed(operands, rows, queries, keys);
  }
  if (policy_) policy_->on_append(layer, std::span(rows).first(static_cast<std::size_t>(config_.kv_heads)), cache);
  return products;
}

// All heads in single calls: one batched q.K^T, one softmax over the stacked (heads * new_rows)
// score rows, one batched p.V, so the round count does not grow with the number of heads. At a
// decode step the cache policy says which rows attend; the scores are always taken against the
// whole cache (it costs the opening of the query only) and narrowed afterwards. `probabilities`,
// when given, receives the stacked probabilities (heads * new_rows x cache rows). The result has F
// fraction bits, or 2F where fused_output_truncation(layer) holds.
Share SecureTransformer::attend(int layer, const Share& qkv, bool append, Share* probabilities) {
  const int heads = config_.heads, group = config_.heads / config_.kv_heads;
  const Eigen::Index new_rows = qkv.rows();
  LayerCache& cache = cache_[layer];
  const std::vector<Share> queries = query_heads(qkv);
  std::vector<const protocols::FixedOperand*> keys, values;
  for (int h = 0; h < heads; ++h) {
    keys.push_back(&cache.keys[h / group]);  // grouped-query attention shares a key/value head
    values.push_back(&cache.values[h / group]);
  }
  std::vector<Share> products;
  if (append) {
    products = append_and_score(layer, qkv, queries, keys);
  } else {
    const auto scope = profiled("attention.scores");
    products = proto_.matmul_fixed_transposed(queries, keys);
  }
  const bool decoding = new_rows == 1 && policy_ != nullptr;
  const kvcache::secure::Selection rows = decoding ? policy_->select(layer, queries, cache) : kvcache::secure::Selection{};
  Share stacked;
  {
    const auto scope = profiled("attention.scores");
    stacked = proto_.truncate(concat_rows(products));
  }
  Share probs = attention_probabilities(layer, stacked, rows, new_rows);
  std::vector<Share> per_head;
  for (int h = 0; h < heads; ++h) per_head.push_back(rows_of(probs, h * new_rows, new_rows));
  Share attended;
  {
    const auto scope = profiled("attention.values");
    attended = concat_columns(proto_.matmul_fixed(per_head, values));
    // Untruncated (2F) when the output projection's bound allows: its truncation serves both.
    if (!fused_output_truncation(layer)) attended = proto_.truncate(attended);
  }
  if (decoding) policy_->on_attention(layer, per_head, cache);  // may evict rows: after their last use
  if (probabilities) *probabilities = std::move(probs);
  return attended;
}

// Softmax over the attending rows; rows that do not attend get probability 0.
Share SecureTransformer::attention_probabilities(int layer, const Share& scores, const kvcache::secure::Selection& rows,
                                                 Eigen::Index new_rows) {
  const int bits = widths_.scores[static_cast<std::size_t>(layer)];
  if (!rows.all) return softmax_over_attending(ops_, config_.heads, config_.heads / config_.kv_heads, scores, rows, bits);
  const auto scope = profiled("attention.softmax");
  if (new_rows == 1) return ops_.softmax(scores, {}, bits);
  return ops_.causal_softmax(scores, config_.heads, position_, protocols::ops::kCausalSoftmaxBlockElements, bits);
}

Share SecureTransformer::mlp_block(int layer, const Share& x) {
  const SecureLayerWeights& w = weights_.layers[layer];
  const Share normed = normalize(x, w.mlp_norm_gain, w.mlp_norm_bias);
  const int f = proto_.fixed_point().frac_bits();
  if (gpt2() && widths_.activation[static_cast<std::size_t>(layer)] + f <= 64) {
    // GeLU's input goes in untruncated (2F, below 2^62 by the activation bound): GeLU truncates it
    // in its first round.
    Share up;
    {
      const auto scope = profiled("linear");
      up = proto_.add(proto_.matmul_fixed(normed, w.up), broadcast_rows(proto_.scale(w.up_bias, mpc::u64{1} << f), normed.rows()));
    }
    return proto_.add(x, linear(activate(layer, up, f), w.down, w.down_bias));
  }
  const Share up = linear(normed, w.up, w.up_bias);
  const Eigen::Index inter = config_.intermediate_size;
  const Share activated = activate(layer, columns(up, 0, inter));
  Share gated;
  {
    const auto scope = profiled("activation");
    gated = proto_.mul_fp(activated, columns(up, inter, inter));
  }
  return proto_.add(x, linear(gated, w.down, w.down_bias));
}

Share SecureTransformer::logits_of_last_row(const Share& x) {
  const Share last = rows_of(x, x.rows() - 1, 1);
  const Share normed = normalize(last, weights_.final_norm_gain, weights_.final_norm_bias, x.rows() - 1);
  const auto scope = profiled("logits");
  if (weights_.lm_head) return proto_.truncate(proto_.matmul_fixed(normed, *weights_.lm_head));
  return proto_.truncate(proto_.matmul_fixed_transposed(normed, weights_.token_embedding));
}

}  // namespace model::secure
