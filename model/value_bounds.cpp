#include "model/value_bounds.hpp"

#include <algorithm>
#include <cmath>

namespace model {

namespace {

// |x . W + b| per output column, for |x_i| <= bound_i.
Vector projected_bound(const Vector& bound, const FloatMatrix& w, const Vector& bias) {
  Vector out = bound * w.cwiseAbs();
  if (bias.size() == out.size()) out += bias.cwiseAbs();
  return out;
}

// RoPE rotates component c with c + head_dim / 2 inside every head: both stay below the pair's norm.
Vector rotated_bound(const Vector& bound, int heads, int head_dim) {
  Vector out = bound;
  const int half = head_dim / 2;
  for (int h = 0; h < heads; ++h)
    for (int c = 0; c < half; ++c) {
      const Eigen::Index a = h * head_dim + c, b = a + half;
      out(a) = out(b) = std::hypot(bound(a), bound(b));
    }
  return out;
}

double score_bound(const ModelConfig& c, const LayerWeights& w, const Vector& normed) {
  Vector q = projected_bound(normed, w.wq, w.bq), k = projected_bound(normed, w.wk, w.bk);
  if (c.architecture == Architecture::Llama) {
    q = rotated_bound(q, c.heads, c.head_dim);
    k = rotated_bound(k, c.kv_heads, c.head_dim);
  }
  const int group = c.heads / c.kv_heads;
  double worst = 0;
  for (int h = 0; h < c.heads; ++h) {
    const double s = q.segment(h * c.head_dim, c.head_dim).dot(k.segment((h / group) * c.head_dim, c.head_dim));
    worst = std::max(worst, s);
  }
  return worst / std::sqrt(static_cast<double>(c.head_dim));
}

// Per-component bound of a normalisation's output (1 x hidden), whatever its input.
Vector normalized_bound(const ModelConfig& config, const Vector& gain, const Vector& bias) {
  const double d = static_cast<double>(config.hidden_size);
  const double z = config.architecture == Architecture::Gpt2 ? std::sqrt(d - 1) : std::sqrt(d);
  Vector out = gain.cwiseAbs() * z;
  if (bias.size() == out.size()) out += bias.cwiseAbs();
  return out;
}

}  // namespace

ValueBounds value_bounds(const TransformerWeights& weights) {
  const ModelConfig& c = weights.config;
  ValueBounds out;
  for (const LayerWeights& w : weights.layers) {
    const Vector attn_in = normalized_bound(c, w.attn_norm_weight, w.attn_norm_bias);
    out.scores.push_back(score_bound(c, w, attn_in));
    const Vector mlp_in = normalized_bound(c, w.mlp_norm_weight, w.mlp_norm_bias);
    const FloatMatrix& activated = c.architecture == Architecture::Gpt2 ? w.w_up : w.w_gate;
    const Vector no_bias;
    out.activation_input.push_back(
        projected_bound(mlp_in, activated, c.architecture == Architecture::Gpt2 ? w.b_up : no_bias).maxCoeff());
  }
  const Vector final_in = normalized_bound(c, weights.final_norm_weight, weights.final_norm_bias);
  out.logits = projected_bound(final_in, weights.output_matrix(), Vector()).maxCoeff();
  return out;
}

}  // namespace model
