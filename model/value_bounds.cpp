#include "model/value_bounds.hpp"

#include <Eigen/Eigenvalues>

#include <algorithm>
#include <cmath>
#include <vector>

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

// Per-component bound of a normalisation's output (1 x hidden), whatever its input.
Vector normalized_bound(const ModelConfig& config, const Vector& gain, const Vector& bias) {
  const double d = static_cast<double>(config.hidden_size);
  const double z = config.architecture == Architecture::Gpt2 ? std::sqrt(d - 1) : std::sqrt(d);
  Vector out = gain.cwiseAbs() * z;
  if (bias.size() == out.size()) out += bias.cwiseAbs();
  return out;
}

// |(z * g + b) . W + c| per output column for every z with ||z||_2 <= sqrt(d), which holds for a
// normalisation's z = (x - mean) / sqrt(var + eps) (LayerNorm) or x / sqrt(ms + eps) (RMSNorm):
// by Cauchy-Schwarz the z term is at most sqrt(d) ||g * W_j||_2, far below the component-wise
// sum_i |W_ij| |z_i|max for dense rows. The smaller of the two bounds, both proven.
Vector normalized_projection_bound(const ModelConfig& config, const Vector& gain, const Vector& bias, const FloatMatrix& w,
                                   const Vector& out_bias) {
  const Vector componentwise = projected_bound(normalized_bound(config, gain, bias), w, out_bias);
  const double z_norm = std::sqrt(static_cast<double>(config.hidden_size));
  Vector squares = Vector::Zero(w.cols());  // ||g * W_j||_2^2, row by row (no copy of W)
  for (Eigen::Index i = 0; i < w.rows(); ++i) squares += (gain(i) * gain(i)) * w.row(i).array().square().matrix();
  Vector out = z_norm * squares.cwiseSqrt();
  if (bias.size() == gain.size()) out += (bias * w).cwiseAbs();
  if (out_bias.size() == out.size()) out += out_bias.cwiseAbs();
  return out.cwiseMin(componentwise);
}

// ||(z * g + b) . W_h + c_h||_2 over one head's columns W_h, for every ||z||_2 <= sqrt(d): at most
// sqrt(d) sigma_max(diag(g) W_h) + ||b . W_h + c_h||_2. RoPE rotates pairs of components, so the
// bound holds for rotated queries and keys too. sigma_max^2 is the largest eigenvalue of the
// head_dim x head_dim Gram matrix, computed to a relative error of a few ulps and enlarged by 1e-9.
double head_norm_bound(const ModelConfig& c, const Vector& gain, const Vector& bias, const FloatMatrix& w,
                       const Vector& out_bias, Eigen::Index first, Eigen::Index count) {
  const FloatMatrix head = gain.transpose().asDiagonal() * w.middleCols(first, count);
  const Eigen::MatrixXd gram = head.transpose() * head;
  const double largest = Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd>(gram, Eigen::EigenvaluesOnly).eigenvalues().maxCoeff();
  double shift_norm = 0;
  if (bias.size() == gain.size() || out_bias.size() == w.cols()) {
    Vector shift = Vector::Zero(count);
    if (bias.size() == gain.size()) shift += bias * w.middleCols(first, count);
    if (out_bias.size() == w.cols()) shift += out_bias.segment(first, count);
    shift_norm = shift.norm();
  }
  return std::sqrt(static_cast<double>(c.hidden_size)) * std::sqrt(std::max(0.0, largest) * (1 + 1e-9)) + shift_norm;
}

// A score is at most the smaller of sum_c |q_c| |k_c| (component bounds) and ||q_h|| ||k_h||.
double score_bound(const ModelConfig& c, const LayerWeights& w) {
  const Vector& gain = w.attn_norm_weight;
  const Vector& bias = w.attn_norm_bias;
  Vector q = normalized_projection_bound(c, gain, bias, w.wq, w.bq), k = normalized_projection_bound(c, gain, bias, w.wk, w.bk);
  if (c.architecture == Architecture::Llama) {
    q = rotated_bound(q, c.heads, c.head_dim);
    k = rotated_bound(k, c.kv_heads, c.head_dim);
  }
  const Eigen::Index d = c.head_dim;
  std::vector<double> key_norms;  // one per key/value head, shared by its group of query heads
  for (int g = 0; g < c.kv_heads; ++g) key_norms.push_back(head_norm_bound(c, gain, bias, w.wk, w.bk, g * d, d));
  const int group = c.heads / c.kv_heads;
  double worst = 0;
  for (int h = 0; h < c.heads; ++h) {
    const int g = h / group;
    const double by_components = q.segment(h * d, d).dot(k.segment(g * d, d));
    const double by_norms = head_norm_bound(c, gain, bias, w.wq, w.bq, h * d, d) * key_norms[static_cast<std::size_t>(g)];
    worst = std::max(worst, std::min(by_components, by_norms));
  }
  return worst / std::sqrt(static_cast<double>(d));
}

}  // namespace

ValueBounds value_bounds(const TransformerWeights& weights) {
  const ModelConfig& c = weights.config;
  ValueBounds out;
  for (const LayerWeights& w : weights.layers) {
    out.scores.push_back(score_bound(c, w));
    const Vector values = normalized_projection_bound(c, w.attn_norm_weight, w.attn_norm_bias, w.wv, w.bv);
    Vector attended(c.heads * c.head_dim);  // query head h reads value head h / group
    for (int h = 0; h < c.heads; ++h)
      attended.segment(h * c.head_dim, c.head_dim) = values.segment((h / (c.heads / c.kv_heads)) * c.head_dim, c.head_dim);
    out.attention_output.push_back(projected_bound(attended, w.wo, Vector()).maxCoeff());
    const bool gpt2 = c.architecture == Architecture::Gpt2;
    out.activation_input.push_back(normalized_projection_bound(c, w.mlp_norm_weight, w.mlp_norm_bias, gpt2 ? w.w_up : w.w_gate,
                                                               gpt2 ? w.b_up : Vector())
                                       .maxCoeff());
  }
  out.logits = normalized_projection_bound(c, weights.final_norm_weight, weights.final_norm_bias, weights.output_matrix(), Vector())
                   .maxCoeff();
  return out;
}

}  // namespace model
