#include "model/transformer.hpp"

#include "model/layers.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace model {

Transformer::Transformer(const TransformerWeights& weights) : weights_(weights) {
  weights_.config.validate();
  if (static_cast<int>(weights_.layers.size()) != weights_.config.layers)
    throw std::invalid_argument("weights have " + std::to_string(weights_.layers.size()) + " layers, config has " +
                                std::to_string(weights_.config.layers));
}

FloatMatrix Transformer::embed(std::span<const int> tokens, int first_position) const {
  const ModelConfig& c = config();
  const int last_position = first_position + static_cast<int>(tokens.size()) - 1;
  if (last_position >= c.max_positions)
    throw std::out_of_range("position " + std::to_string(last_position) + " exceeds the model's context of " +
                            std::to_string(c.max_positions) + " positions");
  FloatMatrix x(static_cast<Eigen::Index>(tokens.size()), c.hidden_size);
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    if (tokens[i] < 0 || tokens[i] >= c.vocab_size)
      throw std::out_of_range("token id " + std::to_string(tokens[i]) + " is outside the vocabulary of " +
                              std::to_string(c.vocab_size));
    x.row(static_cast<Eigen::Index>(i)) = weights_.token_embedding.row(tokens[i]);
    if (c.architecture == Architecture::Gpt2)
      x.row(static_cast<Eigen::Index>(i)) += weights_.position_embedding.row(first_position + static_cast<int>(i));
  }
  return x;
}

Transformer::Projections Transformer::project(int layer, const FloatMatrix& normed, int first_position) const {
  const ModelConfig& c = config();
  const LayerWeights& w = weights_.layers[layer];
  Projections p{affine(normed, w.wq, w.bq), affine(normed, w.wk, w.bk), affine(normed, w.wv, w.bv)};
  if (c.architecture == Architecture::Llama) {
    apply_rope(p.q, c.heads, c.head_dim, first_position, c.rope_theta);
    apply_rope(p.k, c.kv_heads, c.head_dim, first_position, c.rope_theta);
  }
  return p;
}

// Causal attention of every position over all earlier ones (prefill / forward_all), in blocks of
// query rows: a block scores against the keys up to its last row only, so no n x n matrix exists
// (one block is kCausalBlockRows x n at most) and the masked upper triangle is never computed
// (about half the products of a dense score matrix).
FloatMatrix Transformer::causal_attention(const Projections& p) const {
  constexpr Eigen::Index kCausalBlockRows = 256;
  const ModelConfig& c = config();
  const Eigen::Index n = p.q.rows(), d = c.head_dim;
  const int group = c.heads / c.kv_heads;
  const double scale = 1.0 / std::sqrt(static_cast<double>(d));
  FloatMatrix out(n, c.heads * d);
  for (int h = 0; h < c.heads; ++h) {
    const int g = h / group;
    for (Eigen::Index first = 0; first < n; first += kCausalBlockRows) {
      const Eigen::Index rows = std::min(kCausalBlockRows, n - first), seen = first + rows;
      // The product alone, then the scale: Eigen evaluates `(a * b) * s` coefficient by
      // coefficient instead of as a matrix product, several times slower at long prompts.
      FloatMatrix scores = p.q.block(first, h * d, rows, d) * p.k.block(0, g * d, seen, d).transpose();
      scores *= scale;
      for (Eigen::Index i = 0; i < rows; ++i) {
        // Only the causal prefix is exponentiated; the later positions get probability 0.
        auto row = scores.row(i);
        const Eigen::Index visible = first + i + 1;
        row.head(visible) = softmax(row.head(visible));
        row.tail(seen - visible).setZero();
      }
      out.block(first, h * d, rows, d) = scores * p.v.block(0, g * d, seen, d);
    }
  }
  return out;
}

FloatMatrix Transformer::mlp(int layer, const FloatMatrix& x) const {
  const LayerWeights& w = weights_.layers[layer];
  if (config().architecture == Architecture::Gpt2) return affine(activate(affine(x, w.w_up, w.b_up), config().activation), w.w_down, w.b_down);
  const FloatMatrix gate = activate(x * w.w_gate, Activation::Silu);
  return (gate.cwiseProduct(x * w.w_up)) * w.w_down;
}

// Output projection, residual, then the MLP block with its residual. Every step is row-wise, so a
// long prompt goes through in blocks of rows: the MLP's intermediate activations (4x the hidden
// width, several copies) then exist for one block at a time instead of the whole prompt.
FloatMatrix Transformer::finish_layer(int layer, const FloatMatrix& x, const FloatMatrix& attention) const {
  constexpr Eigen::Index kMlpBlockRows = 1024;
  const LayerWeights& w = weights_.layers[layer];
  FloatMatrix out(x.rows(), x.cols());
  for (Eigen::Index first = 0; first < x.rows(); first += kMlpBlockRows) {
    const Eigen::Index rows = std::min(kMlpBlockRows, x.rows() - first);
    const FloatMatrix after_attention = x.middleRows(first, rows) + affine(attention.middleRows(first, rows), w.wo, w.bo);
    const FloatMatrix normed =
        normalize(after_attention, w.mlp_norm_weight, w.mlp_norm_bias, config().architecture, config().norm_eps);
    out.middleRows(first, rows) = after_attention + mlp(layer, normed);
  }
  return out;
}

FloatMatrix Transformer::logits(const FloatMatrix& hidden) const {
  const FloatMatrix normed =
      normalize(hidden, weights_.final_norm_weight, weights_.final_norm_bias, config().architecture, config().norm_eps);
  return normed * weights_.output_matrix();
}

FloatMatrix Transformer::forward_all(std::span<const int> tokens, ForwardTrace* trace) const {
  if (tokens.empty()) throw std::invalid_argument("forward_all needs at least one token");
  FloatMatrix x = embed(tokens, 0);
  for (int l = 0; l < config().layers; ++l) {
    if (trace) trace->layer_inputs.push_back(x);
    const LayerWeights& w = weights_.layers[l];
    const Projections p = project(l, normalize(x, w.attn_norm_weight, w.attn_norm_bias, config().architecture, config().norm_eps), 0);
    x = finish_layer(l, x, causal_attention(p));
  }
  if (trace)
    trace->final_hidden =
        normalize(x, weights_.final_norm_weight, weights_.final_norm_bias, config().architecture, config().norm_eps);
  return logits(x);
}

std::vector<FloatMatrix> Transformer::query_heads(const FloatMatrix& q) const {
  std::vector<FloatMatrix> heads;
  for (int h = 0; h < config().heads; ++h) heads.push_back(q.middleCols(h * config().head_dim, config().head_dim));
  return heads;
}

void Transformer::fill_cache(int layer, const Projections& p, int first_position) {
  const int d = config().head_dim;
  kvcache::LayerCache& cache = cache_[layer];
  for (int g = 0; g < config().kv_heads; ++g) {
    kvcache::HeadCache& head = cache.heads[g];
    if (p.k.rows() == 1) {
      head.append(p.k.row(0).segment(g * d, d), p.v.row(0).segment(g * d, d), first_position);
      continue;
    }
    // A whole prompt is written at once: appending row by row would copy the cache per row.
    if (head.size() != 0) throw std::logic_error("fill_cache: a block of rows can only initialise an empty head cache");
    head.keys = p.k.middleCols(g * d, d);
    head.values = p.v.middleCols(g * d, d);
    head.positions.resize(static_cast<std::size_t>(p.k.rows()));
    for (Eigen::Index r = 0; r < p.k.rows(); ++r) head.positions[r] = first_position + static_cast<int>(r);
  }
}

Vector Transformer::prefill(std::span<const int> tokens, kvcache::CachePolicy* policy) {
  policy_ = policy;
  return run_prompt(tokens, nullptr);
}

PrefillSnapshot Transformer::prefill_snapshot(std::span<const int> tokens) {
  policy_ = nullptr;
  PrefillSnapshot snapshot;
  snapshot.last_logits = run_prompt(tokens, &snapshot.layer_queries);
  snapshot.cache = cache_;
  snapshot.length = position_;
  return snapshot;
}

Vector Transformer::resume(const PrefillSnapshot& snapshot, kvcache::CachePolicy* policy) {
  return resume_with(std::vector<kvcache::LayerCache>(snapshot.cache), snapshot, policy);
}

Vector Transformer::resume(PrefillSnapshot&& snapshot, kvcache::CachePolicy* policy) {
  std::vector<kvcache::LayerCache> cache = std::move(snapshot.cache);
  return resume_with(std::move(cache), snapshot, policy);
}

// `cache`: the snapshot's cache, copied or taken over; the rest of `snapshot` is only read.
Vector Transformer::resume_with(std::vector<kvcache::LayerCache> cache, const PrefillSnapshot& snapshot,
                                kvcache::CachePolicy* policy) {
  const ModelConfig& c = config();
  if (static_cast<int>(cache.size()) != c.layers || static_cast<int>(snapshot.layer_queries.size()) != c.layers)
    throw std::invalid_argument("resume: the snapshot is not of this model");
  policy_ = policy;
  cache_ = std::move(cache);
  position_ = snapshot.length;
  if (policy_) {
    policy_->begin(c.shape(), snapshot.length);
    for (int l = 0; l < c.layers; ++l) policy_->on_prefill(l, snapshot.layer_queries[l], cache_[l]);
    policy_->on_prefill_done(cache_);
  }
  return snapshot.last_logits;
}

// The prompt pass shared by prefill() and prefill_snapshot(): the policy (if any) compacts each
// layer's cache once that layer's prompt rows are in it.
Vector Transformer::run_prompt(std::span<const int> tokens, std::vector<std::vector<FloatMatrix>>* layer_queries) {
  if (tokens.empty()) throw std::invalid_argument("prefill needs at least one prompt token");
  const ModelConfig& c = config();
  position_ = 0;
  cache_.assign(c.layers, kvcache::LayerCache{});
  for (int l = 0; l < c.layers; ++l) {
    cache_[l].layer = l;
    cache_[l].heads.resize(c.kv_heads);
  }
  FloatMatrix x = embed(tokens, 0);  // validates the tokens before the policy sees anything
  if (policy_) policy_->begin(c.shape(), static_cast<int>(tokens.size()));
  for (int l = 0; l < c.layers; ++l) {
    const LayerWeights& w = weights_.layers[l];
    const Projections p = project(l, normalize(x, w.attn_norm_weight, w.attn_norm_bias, c.architecture, c.norm_eps), 0);
    fill_cache(l, p, 0);
    if (layer_queries) layer_queries->push_back(query_heads(p.q));
    x = finish_layer(l, x, causal_attention(p));  // attends over p, not over the cache the policy compacts
    if (policy_) policy_->on_prefill(l, query_heads(p.q), cache_[l]);
  }
  if (policy_) policy_->on_prefill_done(cache_);
  position_ = static_cast<int>(tokens.size());
  return logits(x.bottomRows(1)).row(0);
}

FloatMatrix Transformer::decode_attention(int layer, const Projections& p) {
  const ModelConfig& c = config();
  kvcache::LayerCache& cache = cache_[layer];
  const std::vector<FloatMatrix> queries = query_heads(p.q);
  if (policy_) policy_->on_append(layer, cache);
  const kvcache::Selection selection = policy_ ? policy_->select(layer, queries, cache) : kvcache::Selection::all(c.kv_heads);
  if (static_cast<int>(selection.rows.size()) != c.kv_heads)
    throw std::logic_error("cache policy returned a selection for " + std::to_string(selection.rows.size()) + " heads, expected " +
                           std::to_string(c.kv_heads));
  std::vector<FloatMatrix> per_head;
  if (policy_ && policy_->attend(layer, queries, cache, selection, per_head)) {
    policy_->on_attention(layer, {}, selection, cache);
  } else {
    per_head.clear();
    std::vector<Vector> probs;
    const double scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
    for (int h = 0; h < c.heads; ++h) {
      const kvcache::HeadCache& head = cache.heads[h / (c.heads / c.kv_heads)];
      const auto& rows = selection.rows[h / (c.heads / c.kv_heads)];
      if (rows) {
        for (int r : *rows)
          if (r < 0 || r >= head.size())
            throw std::logic_error("cache policy selected row " + std::to_string(r) + " of a cache with " +
                                   std::to_string(head.size()) + " rows");
        if (rows->empty()) throw std::logic_error("cache policy selected no rows");
      }
      // Only a selection is gathered; the whole cache is read in place, not copied per step.
      auto attend_to = [&](const auto& keys, const auto& values) {
        probs.push_back(softmax((queries[h] * keys.transpose()).row(0) * scale));
        per_head.push_back(probs.back() * values);
      };
      if (rows) {
        attend_to(FloatMatrix(head.keys(*rows, Eigen::all)), FloatMatrix(head.values(*rows, Eigen::all)));
      } else {
        attend_to(head.keys, head.values);
      }
    }
    if (policy_) policy_->on_attention(layer, probs, selection, cache);
  }
  if (static_cast<int>(per_head.size()) != c.heads) throw std::logic_error("cache policy attention returned the wrong number of heads");
  FloatMatrix out(1, c.heads * c.head_dim);
  for (int h = 0; h < c.heads; ++h) out.middleCols(h * c.head_dim, c.head_dim) = per_head[h];
  return out;
}

Vector Transformer::decode(int token) {
  if (cache_.empty()) throw std::logic_error("decode() called before prefill()");
  const ModelConfig& c = config();
  const int token_array[] = {token};
  FloatMatrix x = embed(token_array, position_);
  for (int l = 0; l < c.layers; ++l) {
    const LayerWeights& w = weights_.layers[l];
    const Projections p = project(l, normalize(x, w.attn_norm_weight, w.attn_norm_bias, c.architecture, c.norm_eps), position_);
    fill_cache(l, p, position_);
    x = finish_layer(l, x, decode_attention(l, p));
  }
  ++position_;
  return logits(x).row(0);
}

}  // namespace model
