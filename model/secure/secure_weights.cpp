#include "model/secure/secure_weights.hpp"

#include "model/secure/session_config.hpp"
#include "model/secure/zero_sum_writes.hpp"
#include "net/stats.hpp"

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>

namespace model::secure {

namespace {

using protocols::Role;

// Inputs one weight tensor from P0: only P0 evaluates `owner_value` (the others have no weights),
// everyone passes the public shape.
class WeightInput {
 public:
  WeightInput(Protocol& proto, const TransformerWeights* weights) : proto_(proto), weights_(weights) {}

  enum class Rows { as_given, zero_sum };  // zero_sum: model/secure/zero_sum_writes.hpp

  Share tensor(const std::string& name, Eigen::Index rows, Eigen::Index cols,
               const std::function<FloatMatrix(const TransformerWeights&)>& owner_value, Rows encoding = Rows::as_given) {
    if (!weights_) return proto_.input(0, nullptr, rows, cols);
    const FloatMatrix value = owner_value(*weights_);
    if (value.rows() != rows || value.cols() != cols)
      throw std::invalid_argument("weight " + name + " is " + std::to_string(value.rows()) + "x" +
                                  std::to_string(value.cols()) + ", the config implies " + std::to_string(rows) + "x" +
                                  std::to_string(cols));
    check_encodable(name, value, proto_.fixed_point().frac_bits());
    const mpc::RingMatrix encoded = encoding == Rows::zero_sum ? encode_zero_sum_rows(value, proto_.fixed_point())
                                                               : proto_.fixed_point().encode(value);
    return proto_.input(0, &encoded, rows, cols);
  }

 private:
  Protocol& proto_;
  const TransformerWeights* weights_;
};

// A bias row, or zeros when the checkpoint has none (the shape must not depend on private data).
FloatMatrix row_or_zeros(const Vector& v, Eigen::Index cols) {
  if (v.size() == 0) return FloatMatrix::Zero(1, cols);
  return FloatMatrix(v);
}

void check_parties(const Protocol& proto, const ModelConfig& config, const TransformerWeights* weights) {
  config.validate();
  if (config.architecture == Architecture::Llama && config.head_dim % 2 != 0)
    throw std::invalid_argument("rotary embeddings need an even head dimension");
  const bool owner = proto.role() == Role::P0;
  if (owner && !weights) throw std::invalid_argument("P0 (the model owner) must supply the weights");
  if (!owner && weights) throw std::invalid_argument("only P0 (the model owner) may supply weights");
  if (weights) {
    if (!same_public_config(weights->config, config))
      throw std::invalid_argument("the weights' config differs from the session's model config");
    if (static_cast<int>(weights->layers.size()) != config.layers)
      throw std::invalid_argument("the weights have " + std::to_string(weights->layers.size()) + " layers, the config " +
                                  std::to_string(config.layers));
  }
}

SecureLayerWeights input_layer(WeightInput& in, const ModelConfig& c, int l) {
  const bool gpt2 = c.architecture == Architecture::Gpt2;
  const Eigen::Index d = c.hidden_size, inter = c.intermediate_size;
  const Eigen::Index q_width = c.heads * c.head_dim, kv_width = c.kv_heads * c.head_dim, qkv_width = q_width + 2 * kv_width;
  const double q_scale = 1.0 / std::sqrt(static_cast<double>(c.head_dim));
  const std::string prefix = "layer " + std::to_string(l) + " ";
  auto layer = [l](const TransformerWeights& w) -> const LayerWeights& { return w.layers[l]; };
  SecureLayerWeights s;
  s.attn_norm_gain = in.tensor(prefix + "attention norm weight", 1, d, [&](auto& w) { return FloatMatrix(layer(w).attn_norm_weight); });
  if (gpt2) s.attn_norm_bias = in.tensor(prefix + "attention norm bias", 1, d, [&](auto& w) { return FloatMatrix(layer(w).attn_norm_bias); });
  s.qkv.value = in.tensor(prefix + "q/k/v weights", d, qkv_width, [&](auto& w) {
    FloatMatrix m(d, qkv_width);
    m << layer(w).wq * q_scale, layer(w).wk, layer(w).wv;
    return m;
  });
  s.qkv_bias = in.tensor(prefix + "q/k/v biases", 1, qkv_width, [&](auto& w) {
    FloatMatrix m(1, qkv_width);
    m << row_or_zeros(layer(w).bq, q_width) * q_scale, row_or_zeros(layer(w).bk, kv_width), row_or_zeros(layer(w).bv, kv_width);
    return m;
  });
  // GPT-2's writes into the residual stream sum to zero over the hidden dimension (zero_sum_writes.hpp).
  const auto writes = gpt2 ? WeightInput::Rows::zero_sum : WeightInput::Rows::as_given;
  s.out.value = in.tensor(prefix + "attention output weight", q_width, d, [&](auto& w) { return layer(w).wo; }, writes);
  s.out_bias = in.tensor(prefix + "attention output bias", 1, d, [&](auto& w) { return row_or_zeros(layer(w).bo, d); }, writes);
  s.mlp_norm_gain = in.tensor(prefix + "MLP norm weight", 1, d, [&](auto& w) { return FloatMatrix(layer(w).mlp_norm_weight); });
  if (gpt2) s.mlp_norm_bias = in.tensor(prefix + "MLP norm bias", 1, d, [&](auto& w) { return FloatMatrix(layer(w).mlp_norm_bias); });
  const Eigen::Index up_width = gpt2 ? inter : 2 * inter;
  s.up.value = in.tensor(prefix + "MLP up weight", d, up_width, [&](auto& w) {
    if (gpt2) return layer(w).w_up;
    FloatMatrix m(d, up_width);
    m << layer(w).w_gate, layer(w).w_up;
    return m;
  });
  s.up_bias = in.tensor(prefix + "MLP up bias", 1, up_width, [&](auto& w) {
    if (gpt2) return row_or_zeros(layer(w).b_up, inter);
    return FloatMatrix(FloatMatrix::Zero(1, up_width));
  });
  s.down.value = in.tensor(prefix + "MLP down weight", inter, d, [&](auto& w) { return layer(w).w_down; }, writes);
  s.down_bias = in.tensor(prefix + "MLP down bias", 1, d, [&](auto& w) { return row_or_zeros(layer(w).b_down, d); }, writes);
  return s;
}

// Masks a list of projection matrices (one round, or several for a large matrix: fix_bounded).
void fix_all(Protocol& proto, std::vector<FixedOperand*> operands) {
  std::vector<Share> values;
  for (FixedOperand* op : operands) values.push_back(op->value.take());
  std::vector<FixedOperand> fixed = proto.fix_bounded(std::move(values));
  for (std::size_t i = 0; i < operands.size(); ++i) *operands[i] = std::move(fixed[i]);
}

}  // namespace

std::uint64_t element_count(const FixedOperand& f) { return static_cast<std::uint64_t>(f.value.rows() * f.value.cols()); }

SecretElements secret_elements(const SecureWeights& w) {
  SecretElements e;
  const auto fixed = [&](const FixedOperand& f) { e.fixed += element_count(f); };
  const auto other = [&](const Share& s) { e.other += static_cast<std::uint64_t>(s.rows() * s.cols()); };
  fixed(w.token_embedding);
  other(w.position_embedding);
  for (const SecureLayerWeights& l : w.layers) {
    for (const FixedOperand* f : {&l.qkv, &l.out, &l.up, &l.down}) fixed(*f);
    for (const Share* s : {&l.attn_norm_gain, &l.attn_norm_bias, &l.qkv_bias, &l.out_bias, &l.mlp_norm_gain,
                           &l.mlp_norm_bias, &l.up_bias, &l.down_bias})
      other(*s);
  }
  other(w.final_norm_gain);
  other(w.final_norm_bias);
  if (w.lm_head) fixed(*w.lm_head);
  return e;
}

double max_weight_magnitude(int frac_bits) { return std::ldexp(1.0, 63 - 2 * frac_bits); }

void check_encodable(const std::string& name, const FloatMatrix& value, int frac_bits) {
  const double limit = max_weight_magnitude(frac_bits);
  for (Eigen::Index r = 0; r < value.rows(); ++r)
    for (Eigen::Index c = 0; c < value.cols(); ++c) {
      const double v = value(r, c);
      if (std::isfinite(v) && std::abs(v) < limit) continue;
      throw std::invalid_argument("weight " + name + " has the value " + std::to_string(v) + " at [" +
                                  std::to_string(r) + ", " + std::to_string(c) + "], outside the fixed-point range (|w| < " +
                                  std::to_string(limit) + " at " + std::to_string(frac_bits) + " fraction bits)");
    }
}

void check_norm_gains(const TransformerWeights& w, double limit) {
  const auto check = [limit](const std::string& name, const auto& gain) {
    for (Eigen::Index i = 0; i < gain.size(); ++i) {
      if (std::abs(gain(i)) < limit) continue;
      throw std::invalid_argument(name + " has the gain " + std::to_string(gain(i)) + " at [" + std::to_string(i) +
                                  "]; normalisations with FSS need gains below " + std::to_string(limit) +
                                  " in magnitude (use --nonlinear boolean)");
    }
  };
  for (std::size_t l = 0; l < w.layers.size(); ++l) {
    check("layer " + std::to_string(l) + " attention norm", w.layers[l].attn_norm_weight);
    check("layer " + std::to_string(l) + " MLP norm", w.layers[l].mlp_norm_weight);
  }
  check("final norm", w.final_norm_weight);
}

SecureWeights share_weights(Protocol& proto, const ModelConfig& c, const TransformerWeights* owner_weights) {
  check_parties(proto, c, owner_weights);
  net::PhaseScope phase(proto.mesh().stats(), kWeightsPhase);
  WeightInput in(proto, owner_weights);
  const Eigen::Index d = c.hidden_size;
  SecureWeights s;
  // Each matrix is fixed right after its input, a layer (or a large matrix's row block) a round:
  // a round's messages are held in memory at once, and the unfixed shares of the whole model
  // beside the fixed ones would double a party's peak.
  s.token_embedding.value = in.tensor("token embedding", c.vocab_size, d, [](auto& w) { return w.token_embedding; });
  fix_all(proto, {&s.token_embedding});
  const bool gpt2 = c.architecture == Architecture::Gpt2;
  if (gpt2) s.position_embedding = in.tensor("position embedding", c.max_positions, d, [](auto& w) { return w.position_embedding; });
  for (int l = 0; l < c.layers; ++l) {
    SecureLayerWeights& layer = s.layers.emplace_back(input_layer(in, c, l));
    fix_all(proto, {&layer.qkv, &layer.out, &layer.up, &layer.down});
  }
  s.final_norm_gain = in.tensor("final norm weight", 1, d, [](auto& w) { return FloatMatrix(w.final_norm_weight); });
  if (gpt2) s.final_norm_bias = in.tensor("final norm bias", 1, d, [](auto& w) { return FloatMatrix(w.final_norm_bias); });
  if (!c.tie_word_embeddings) {
    s.lm_head = FixedOperand{};
    s.lm_head->value = in.tensor("output projection", d, c.vocab_size, [](auto& w) { return w.output_matrix(); });
    fix_all(proto, {&*s.lm_head});
  }
  return s;
}

}  // namespace model::secure
