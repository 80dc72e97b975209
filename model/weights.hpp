// The weights of one transformer in a single in-memory layout shared by both architectures.
// Every projection is stored as in x out so that activations (one row per token) multiply on the
// left: y = x * W + b. Hugging Face GPT-2 Conv1D weights are already in x out; nn.Linear weights
// (LLaMA) are out x in and are transposed when loaded.
#pragma once

#include "model/config.hpp"
#include "model/safetensors.hpp"
#include "mpc/ring.hpp"

#include <filesystem>
#include <vector>

namespace model {

using mpc::FloatMatrix;
using Vector = Eigen::RowVectorXd;

struct LayerWeights {
  Vector attn_norm_weight, attn_norm_bias;  // bias empty for RMSNorm
  FloatMatrix wq, wk, wv;                   // hidden x (heads|kv_heads) * head_dim
  Vector bq, bk, bv;                        // empty when the checkpoint has no attention bias
  FloatMatrix wo;                           // heads * head_dim x hidden
  Vector bo;
  Vector mlp_norm_weight, mlp_norm_bias;
  FloatMatrix w_up;    // hidden x intermediate (GPT-2 c_fc, LLaMA up_proj)
  Vector b_up;
  FloatMatrix w_gate;  // hidden x intermediate (LLaMA gate_proj; empty for GPT-2)
  FloatMatrix w_down;  // intermediate x hidden (GPT-2 mlp.c_proj, LLaMA down_proj)
  Vector b_down;
};

struct TransformerWeights {
  ModelConfig config;
  FloatMatrix token_embedding;     // vocab x hidden
  FloatMatrix position_embedding;  // max_positions x hidden (GPT-2 only)
  std::vector<LayerWeights> layers;
  Vector final_norm_weight, final_norm_bias;
  FloatMatrix lm_head;  // hidden x vocab; empty when tied to token_embedding

  // Output projection: lm_head, or the transposed token embedding when tied.
  const FloatMatrix& output_matrix() const { return lm_head.size() ? lm_head : token_embedding_t_; }
  void finalize();  // builds derived data (the tied output matrix); called by the loaders

 private:
  FloatMatrix token_embedding_t_;
};

// Maps the tensors of a checkpoint to the layout above and checks every shape against `config`.
// Accepts GPT-2 names with or without the "transformer." prefix and LLaMA names ("model.").
TransformerWeights weights_from_safetensors(const ModelConfig& config, const std::vector<const SafetensorsFile*>& files);

// Loads DIR/config.json and DIR/model.safetensors (or the shards listed in
// DIR/model.safetensors.index.json).
TransformerWeights load_weights(const std::filesystem::path& dir);

// Seeded random weights of the given shape (benchmarks and tests; not a trained model).
TransformerWeights random_weights(const ModelConfig& config, std::uint64_t seed, double scale = 0.02);

}  // namespace model
