#include "model/secure/secure_transformer.hpp"

#include "model/gumbel_sampling.hpp"
#include "net/stats.hpp"
#include "protocols/ops/share_layout.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cmath>
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
using protocols::ops::map_share;
using protocols::ops::rows_of;

SecureWeights share_weights_in_phase(Protocol& proto, const ModelConfig& config, const TransformerWeights* weights) {
  net::PhaseScope phase(proto.mesh().stats(), kWeightsPhase);
  return share_weights(proto, config, weights);
}

// A 1 x cols bias repeated for every row of a block (local).
Share broadcast_rows(const Share& row, Eigen::Index rows) {
  return map_share(row, [rows](const RingMatrix& m) -> RingMatrix { return m.replicate(rows, 1); });
}

// The index of the single 1 in an opened one-hot row; anything else means the argmax failed.
int index_of_one_hot(const RingMatrix& one_hot) {
  int index = -1;
  for (Eigen::Index j = 0; j < one_hot.cols(); ++j) {
    if (one_hot(0, j) == 0) continue;
    if (one_hot(0, j) != 1 || index >= 0) throw std::runtime_error("secure argmax did not produce a one-hot row");
    index = static_cast<int>(j);
  }
  if (one_hot.rows() != 1 || index < 0) throw std::runtime_error("secure argmax did not produce a one-hot row");
  return index;
}

}  // namespace

SecureTransformer::SecureTransformer(Protocol& proto, const ModelConfig& config, const TransformerWeights* owner_weights,
                                     protocols::ops::OpsOptions options)
    : proto_(proto),
      config_(config),
      ops_(proto, options),
      weights_(share_weights_in_phase(proto, config, owner_weights)) {}

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
  if (user) {
    if (static_cast<int>(prompt_tokens.size()) != prompt_length)
      throw std::invalid_argument("P1's prompt has " + std::to_string(prompt_tokens.size()) + " tokens, the public length is " +
                                  std::to_string(prompt_length));
    one_hot = RingMatrix::Zero(prompt_length, config_.vocab_size);
    for (int i = 0; i < prompt_length; ++i) {
      if (prompt_tokens[i] < 0 || prompt_tokens[i] >= config_.vocab_size)
        throw std::out_of_range("prompt token " + std::to_string(i) + " is outside the vocabulary of " +
                                std::to_string(config_.vocab_size));
      one_hot(i, prompt_tokens[i]) = 1;
    }
  }
  if (policy_) policy_->begin(config_.layers, prompt_length);
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
  if (next_position < length)
    throw std::invalid_argument("adopt_cache: " + std::to_string(length) + " cached rows but only " +
                                std::to_string(next_position) + " tokens processed");
  const auto expect = [&](const std::vector<std::vector<Share>>& per_layer, const char* what) {
    if (static_cast<int>(per_layer.size()) != config_.layers)
      throw std::invalid_argument(std::string("adopt_cache: ") + what + " for " + std::to_string(per_layer.size()) +
                                  " layers, the model has " + std::to_string(config_.layers));
    for (const auto& heads : per_layer) {
      if (static_cast<int>(heads.size()) != config_.kv_heads)
        throw std::invalid_argument(std::string("adopt_cache: ") + what + " with the wrong number of heads");
      for (const Share& h : heads)
        if (h.rows() != length || h.cols() != config_.head_dim)
          throw std::invalid_argument(std::string("adopt_cache: ") + what + " must be " + std::to_string(length) +
                                      " x " + std::to_string(config_.head_dim) + " per head");
    }
  };
  expect(keys, "keys");
  expect(values, "values");
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
  policy_->begin(config_.layers, next_position);
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
  NextToken out{ops_.argmax(logits).one_hot, std::nullopt};
  const RingMatrix opened = proto_.reveal(out.one_hot, 1);
  if (proto_.role() == Role::P1) out.token = index_of_one_hot(opened);
  return out;
}

NextToken SecureTransformer::sampled_token(const Share& logits, double temperature, const Eigen::RowVectorXd* user_noise) {
  check_sampling_temperature(temperature);
  const bool user = proto_.role() == Role::P1;
  if (user && (user_noise == nullptr || user_noise->size() != config_.vocab_size))
    throw std::invalid_argument("P1 must supply one Gumbel noise value per vocabulary entry");
  Share perturbed;
  {
    const auto scope = profiled("sampling");
    const mpc::FixedPoint& fp = proto_.fixed_point();
    RingMatrix noise;
    if (user) {
      noise.resize(1, config_.vocab_size);
      for (int i = 0; i < config_.vocab_size; ++i) noise(0, i) = fp.encode((*user_noise)[i]);
    }
    const Share scaled = proto_.truncate(proto_.scale(logits, fp.encode(1.0 / temperature)));
    perturbed = proto_.add(scaled, proto_.input(1, user ? &noise : nullptr, 1, config_.vocab_size));
  }
  return greedy_token(perturbed);
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

Share SecureTransformer::normalize(const Share& x, const Share& gain, const Share& bias) {
  const auto scope = profiled("norm");
  if (gpt2()) return ops_.layer_norm(x, gain, bias, config_.norm_eps);
  return ops_.rms_norm(x, gain, config_.norm_eps);
}

Share SecureTransformer::activate(const Share& x) {
  const auto scope = profiled("activation");
  // GeLU's tanh and erf forms differ by < 1e-3, below the approximation's own error budget.
  return config_.activation == Activation::Silu ? ops_.silu(x) : ops_.gelu(x);
}

Share SecureTransformer::linear(const Share& x, const protocols::FixedOperand& w, const Share& bias) {
  const auto scope = profiled("linear");
  return proto_.add(proto_.truncate(proto_.matmul_fixed(x, w)), broadcast_rows(bias, x.rows()));
}

Share SecureTransformer::attention_block(int layer, const Share& x) {
  const SecureLayerWeights& w = weights_.layers[layer];
  const Share normed = normalize(x, w.attn_norm_gain, w.attn_norm_bias);
  const Share projected = linear(normed, w.qkv, w.qkv_bias);
  const Share qkv = gpt2() ? projected : rotate_positions(projected);
  const bool prompt = cache_[layer].keys.empty();
  append_to_cache(layer, qkv);
  Share prompt_probabilities;
  const Share attended = attend(layer, qkv, prompt ? &prompt_probabilities : nullptr);
  if (prompt && policy_)
    policy_->on_prefill(layer, kvcache::secure::PromptAttention(prompt_probabilities, config_.heads), cache_[layer]);
  return proto_.add(x, linear(attended, w.out, w.out_bias));
}

// One share per query head (rows x head_dim), already scaled by 1/sqrt(d) through the weights.
std::vector<Share> SecureTransformer::query_heads(const Share& qkv) const {
  std::vector<Share> queries;
  for (int h = 0; h < config_.heads; ++h) queries.push_back(columns(qkv, h * config_.head_dim, config_.head_dim));
  return queries;
}

// Each new K and V row is masked once here; later steps reuse the mask (see protocol.hpp).
void SecureTransformer::append_to_cache(int layer, const Share& qkv) {
  const auto scope = profiled("attention.cache_append");
  const int kv_heads = config_.kv_heads, d = config_.head_dim;
  const Eigen::Index keys_at = config_.heads * d, values_at = keys_at + kv_heads * d;
  std::vector<Share> rows;
  for (int g = 0; g < kv_heads; ++g) rows.push_back(columns(qkv, keys_at + g * d, d));
  for (int g = 0; g < kv_heads; ++g) rows.push_back(columns(qkv, values_at + g * d, d));
  LayerCache& cache = cache_[layer];
  if (cache.keys.empty()) {
    std::vector<protocols::FixedOperand> fixed = proto_.fix(rows);
    cache.keys.assign(std::make_move_iterator(fixed.begin()), std::make_move_iterator(fixed.begin() + kv_heads));
    cache.values.assign(std::make_move_iterator(fixed.begin() + kv_heads), std::make_move_iterator(fixed.end()));
    return;
  }
  std::vector<protocols::FixedOperand*> operands;
  for (auto& k : cache.keys) operands.push_back(&k);
  for (auto& v : cache.values) operands.push_back(&v);
  proto_.append_rows(operands, rows);
  if (policy_) policy_->on_append(layer, std::span(rows).first(static_cast<std::size_t>(kv_heads)), cache);
}

// All heads in single calls: one batched q.K^T, one softmax over the stacked (heads * new_rows)
// score rows, one batched p.V, so the round count does not grow with the number of heads. At a
// decode step the cache policy says which rows attend; the scores are always taken against the
// whole cache (it costs the opening of the query only) and narrowed afterwards. `probabilities`,
// when given, receives the stacked probabilities (heads * new_rows x cache rows).
Share SecureTransformer::attend(int layer, const Share& qkv, Share* probabilities) {
  const int heads = config_.heads, group = config_.heads / config_.kv_heads;
  const Eigen::Index new_rows = qkv.rows();
  LayerCache& cache = cache_[layer];
  const std::vector<Share> queries = query_heads(qkv);
  std::vector<const protocols::FixedOperand*> keys, values;
  for (int h = 0; h < heads; ++h) {
    keys.push_back(&cache.keys[h / group]);  // grouped-query attention shares a key/value head
    values.push_back(&cache.values[h / group]);
  }
  const bool decoding = new_rows == 1 && policy_ != nullptr;
  const kvcache::secure::AttendingRows rows = decoding ? policy_->attending(layer, queries, cache) : kvcache::secure::AttendingRows{};
  Share stacked;
  {
    const auto scope = profiled("attention.scores");
    stacked = proto_.truncate(concat_rows(proto_.matmul_fixed_transposed(queries, keys)));
  }
  Share probs = attention_probabilities(stacked, rows, new_rows);
  std::vector<Share> per_head;
  for (int h = 0; h < heads; ++h) per_head.push_back(rows_of(probs, h * new_rows, new_rows));
  Share attended;
  {
    const auto scope = profiled("attention.values");
    attended = proto_.truncate(concat_columns(proto_.matmul_fixed(per_head, values)));
  }
  if (decoding) policy_->on_attention(layer, per_head, cache);  // may evict rows: after their last use
  if (probabilities) *probabilities = std::move(probs);
  return attended;
}

// Softmax over the attending rows; rows that do not attend get probability 0.
Share SecureTransformer::attention_probabilities(const Share& scores, const kvcache::secure::AttendingRows& rows,
                                                 Eigen::Index new_rows) {
  if (rows.all) {
    const auto scope = profiled("attention.softmax");
    return new_rows > 1 ? ops_.softmax(scores, causal_mask(new_rows)) : ops_.softmax(scores);
  }
  const Share narrowed = attending_scores(scores, rows);
  Share probs;
  {
    const auto scope = profiled("attention.softmax");
    probs = ops_.softmax(narrowed);
  }
  return spread_probabilities(probs, rows, scores.cols());
}

// heads x cache rows -> heads x attending rows: [chosen groups' rows | public rows]. The chosen
// groups' scores come from one product of each head's group one-hot with its scores laid out one
// group per row.
Share SecureTransformer::attending_scores(const Share& scores, const kvcache::secure::AttendingRows& rows) {
  const auto scope = profiled(kvcache::secure::kProfileSelectionGather);
  const int heads = config_.heads, group = config_.heads / config_.kv_heads, s = rows.group_size;
  std::vector<Share> parts;
  if (rows.chosen_groups() > 0) {
    const Eigen::Index groups = rows.chosen.front().cols();
    std::vector<Share> one_hots, grouped;
    for (int h = 0; h < heads; ++h) {
      one_hots.push_back(rows.chosen[h / group]);
      grouped.push_back(protocols::ops::reshape(columns(rows_of(scores, h, 1), 0, groups * s), groups, s));
    }
    std::vector<Share> picked = proto_.matmul(one_hots, grouped);  // one-hot x fixed point: exact
    for (Share& p : picked) p = protocols::ops::reshape(p, 1, p.rows() * p.cols());
    parts.push_back(concat_rows(picked));
  }
  if (!rows.public_rows.empty()) parts.push_back(protocols::ops::gather_columns(
        scores, protocols::ops::ColumnIndices(rows.public_rows.begin(), rows.public_rows.end())));
  return concat_columns(parts);
}

// The inverse layout: heads x attending rows -> heads x cache rows, zeros where no row attended.
Share SecureTransformer::spread_probabilities(const Share& probs, const kvcache::secure::AttendingRows& rows,
                                              Eigen::Index cache_rows) {
  const auto scope = profiled(kvcache::secure::kProfileSelectionGather);
  const int heads = config_.heads, group = config_.heads / config_.kv_heads, s = rows.group_size;
  const Eigen::Index chosen_width = Eigen::Index{rows.chosen_groups()} * s;
  Share spread = protocols::ops::zeros(proto_, heads, cache_rows);
  if (chosen_width > 0) {
    const Eigen::Index groups = rows.chosen.front().cols();
    std::vector<Share> transposed_one_hots, chosen_probs;
    for (int h = 0; h < heads; ++h) {
      transposed_one_hots.push_back(map_share(rows.chosen[h / group], [](const RingMatrix& m) -> RingMatrix { return m.transpose(); }));
      chosen_probs.push_back(protocols::ops::reshape(columns(rows_of(probs, h, 1), 0, chosen_width), rows.chosen_groups(), s));
    }
    std::vector<Share> placed = proto_.matmul(transposed_one_hots, chosen_probs);  // groups x s each
    for (Share& p : placed) p = protocols::ops::reshape(p, 1, groups * s);
    const Share parts[] = {concat_rows(placed), protocols::ops::zeros(proto_, heads, cache_rows - groups * s)};
    spread = concat_columns(parts);
  }
  if (rows.public_rows.empty()) return spread;
  const Share public_probs = columns(probs, chosen_width, static_cast<Eigen::Index>(rows.public_rows.size()));
  return proto_.add(spread, map_share(public_probs, [&](const RingMatrix& m) -> RingMatrix {
    RingMatrix out = RingMatrix::Zero(m.rows(), cache_rows);
    for (std::size_t i = 0; i < rows.public_rows.size(); ++i) out.col(rows.public_rows[i]) = m.col(static_cast<Eigen::Index>(i));
    return out;
  }));
}

// Row i of each head's block (the token at position_ + i) sees the cached rows 0 .. position_ + i.
RingMatrix SecureTransformer::causal_mask(Eigen::Index new_rows) const {
  const Eigen::Index total = position_ + new_rows;
  RingMatrix mask = RingMatrix::Zero(config_.heads * new_rows, total);
  for (int h = 0; h < config_.heads; ++h)
    for (Eigen::Index i = 0; i < new_rows; ++i) mask.row(h * new_rows + i).head(position_ + i + 1).setOnes();
  return mask;
}

Share SecureTransformer::mlp_block(int layer, const Share& x) {
  const SecureLayerWeights& w = weights_.layers[layer];
  const Share normed = normalize(x, w.mlp_norm_gain, w.mlp_norm_bias);
  const Share up = linear(normed, w.up, w.up_bias);
  if (gpt2()) return proto_.add(x, linear(activate(up), w.down, w.down_bias));
  const Eigen::Index inter = config_.intermediate_size;
  const Share activated = activate(columns(up, 0, inter));
  Share gated;
  {
    const auto scope = profiled("activation");
    gated = proto_.mul_fp(activated, columns(up, inter, inter));
  }
  return proto_.add(x, linear(gated, w.down, w.down_bias));
}

Share SecureTransformer::logits_of_last_row(const Share& x) {
  const Share last = rows_of(x, x.rows() - 1, 1);
  const Share normed = normalize(last, weights_.final_norm_gain, weights_.final_norm_bias);
  const auto scope = profiled("logits");
  if (weights_.lm_head) return proto_.truncate(proto_.matmul_fixed(normed, *weights_.lm_head));
  return proto_.truncate(proto_.matmul_fixed_transposed(normed, weights_.token_embedding));
}

// Rotary embedding of the q and k columns. Positions are public, so the rotation is a public
// linear map: x * cos + swap_halves(x) * sin', with sin' = -sin on the first half of each head
// (Hugging Face convention: channel i pairs with i + head_dim / 2). One truncation round.
Share SecureTransformer::rotate_positions(const Share& qkv) {
  const auto scope = profiled("rotary");
  const int d = config_.head_dim, half = d / 2, blocks = config_.heads + config_.kv_heads;
  const Eigen::Index rows = qkv.rows(), rotated_width = static_cast<Eigen::Index>(blocks) * d;
  const mpc::FixedPoint& fp = proto_.fixed_point();
  RingMatrix cosines(rows, rotated_width), sines(rows, rotated_width);
  for (Eigen::Index r = 0; r < rows; ++r) {
    const double position = static_cast<double>(position_ + r);
    for (int i = 0; i < half; ++i) {
      const double angle = position * std::pow(config_.rope_theta, -2.0 * i / d);
      const mpc::u64 c = fp.encode(std::cos(angle)), s = fp.encode(std::sin(angle)), minus_s = fp.encode(-std::sin(angle));
      for (int b = 0; b < blocks; ++b) {
        cosines(r, b * d + i) = cosines(r, b * d + i + half) = c;
        sines(r, b * d + i) = minus_s;
        sines(r, b * d + i + half) = s;
      }
    }
  }
  const Share x = columns(qkv, 0, rotated_width);
  const Share swapped = map_share(x, [&](const RingMatrix& m) -> RingMatrix {
    RingMatrix out(m.rows(), m.cols());
    for (int b = 0; b < blocks; ++b) {
      out.middleCols(b * d, half) = m.middleCols(b * d + half, half);
      out.middleCols(b * d + half, half) = m.middleCols(b * d, half);
    }
    return out;
  });
  const Share rotated = proto_.truncate(proto_.add(proto_.mul_public(x, cosines), proto_.mul_public(swapped, sines)));
  const Share parts[] = {rotated, columns(qkv, rotated_width, qkv.cols() - rotated_width)};
  return concat_columns(parts);
}

}  // namespace model::secure
