#include "model/checkpoint_writer.hpp"

#include <fstream>
#include <stdexcept>

namespace model {
namespace {

void add(std::vector<TensorToWrite>& out, const std::string& name, const FloatMatrix& m) {
  out.push_back(tensor_from_matrix(name, m));
}

void add_vector(std::vector<TensorToWrite>& out, const std::string& name, const Vector& v) {
  if (v.size()) out.push_back(tensor_from_matrix(name, FloatMatrix(v), true));
}

void gpt2_tensors(const TransformerWeights& w, std::vector<TensorToWrite>& out) {
  add(out, "wte.weight", w.token_embedding);
  add(out, "wpe.weight", w.position_embedding);
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    const std::string p = "h." + std::to_string(i) + ".";
    add_vector(out, p + "ln_1.weight", l.attn_norm_weight);
    add_vector(out, p + "ln_1.bias", l.attn_norm_bias);
    FloatMatrix qkv(l.wq.rows(), l.wq.cols() + l.wk.cols() + l.wv.cols());
    qkv << l.wq, l.wk, l.wv;
    add(out, p + "attn.c_attn.weight", qkv);
    Vector qkv_bias(qkv.cols());
    qkv_bias << l.bq, l.bk, l.bv;
    add_vector(out, p + "attn.c_attn.bias", qkv_bias);
    add(out, p + "attn.c_proj.weight", l.wo);
    add_vector(out, p + "attn.c_proj.bias", l.bo);
    add_vector(out, p + "ln_2.weight", l.mlp_norm_weight);
    add_vector(out, p + "ln_2.bias", l.mlp_norm_bias);
    add(out, p + "mlp.c_fc.weight", l.w_up);
    add_vector(out, p + "mlp.c_fc.bias", l.b_up);
    add(out, p + "mlp.c_proj.weight", l.w_down);
    add_vector(out, p + "mlp.c_proj.bias", l.b_down);
  }
  add_vector(out, "ln_f.weight", w.final_norm_weight);
  add_vector(out, "ln_f.bias", w.final_norm_bias);
  if (w.lm_head.size()) add(out, "lm_head.weight", w.lm_head.transpose());
}

// LLaMA projections are nn.Linear (out x in): transpose the engine's in x out layout back.
void llama_tensors(const TransformerWeights& w, std::vector<TensorToWrite>& out) {
  add(out, "model.embed_tokens.weight", w.token_embedding);
  for (std::size_t i = 0; i < w.layers.size(); ++i) {
    const LayerWeights& l = w.layers[i];
    const std::string p = "model.layers." + std::to_string(i) + ".";
    add_vector(out, p + "input_layernorm.weight", l.attn_norm_weight);
    add(out, p + "self_attn.q_proj.weight", l.wq.transpose());
    add(out, p + "self_attn.k_proj.weight", l.wk.transpose());
    add(out, p + "self_attn.v_proj.weight", l.wv.transpose());
    add_vector(out, p + "self_attn.q_proj.bias", l.bq);
    add_vector(out, p + "self_attn.k_proj.bias", l.bk);
    add_vector(out, p + "self_attn.v_proj.bias", l.bv);
    add(out, p + "self_attn.o_proj.weight", l.wo.transpose());
    add_vector(out, p + "self_attn.o_proj.bias", l.bo);
    add_vector(out, p + "post_attention_layernorm.weight", l.mlp_norm_weight);
    add(out, p + "mlp.gate_proj.weight", l.w_gate.transpose());
    add(out, p + "mlp.up_proj.weight", l.w_up.transpose());
    add(out, p + "mlp.down_proj.weight", l.w_down.transpose());
  }
  add_vector(out, "model.norm.weight", w.final_norm_weight);
  if (w.lm_head.size()) add(out, "lm_head.weight", w.lm_head.transpose());
}

}  // namespace

nlohmann::json config_to_json(const ModelConfig& c) {
  if (c.architecture == Architecture::Gpt2) {
    return {{"model_type", "gpt2"}, {"architectures", {"GPT2LMHeadModel"}}, {"vocab_size", c.vocab_size},
            {"n_embd", c.hidden_size}, {"n_layer", c.layers}, {"n_head", c.heads}, {"n_inner", c.intermediate_size},
            {"n_positions", c.max_positions}, {"layer_norm_epsilon", c.norm_eps},
            {"activation_function", c.activation == Activation::GeluErf ? "gelu" : "gelu_new"},
            {"tie_word_embeddings", c.tie_word_embeddings}};
  }
  return {{"model_type", "llama"}, {"architectures", {"LlamaForCausalLM"}}, {"vocab_size", c.vocab_size},
          {"hidden_size", c.hidden_size}, {"num_hidden_layers", c.layers}, {"num_attention_heads", c.heads},
          {"num_key_value_heads", c.kv_heads}, {"head_dim", c.head_dim}, {"intermediate_size", c.intermediate_size},
          {"max_position_embeddings", c.max_positions}, {"rms_norm_eps", c.norm_eps}, {"rope_theta", c.rope_theta},
          {"tie_word_embeddings", c.tie_word_embeddings}, {"hidden_act", "silu"}};
}

std::vector<TensorToWrite> checkpoint_tensors(const TransformerWeights& weights) {
  std::vector<TensorToWrite> out;
  if (weights.config.architecture == Architecture::Gpt2) {
    gpt2_tensors(weights, out);
  } else {
    llama_tensors(weights, out);
  }
  return out;
}

void save_checkpoint(const std::filesystem::path& dir, const TransformerWeights& weights, DType dtype) {
  std::filesystem::create_directories(dir);
  write_safetensors(dir / "model.safetensors", checkpoint_tensors(weights), dtype, {{"format", "pt"}});
  std::ofstream config(dir / "config.json");
  if (!config) throw std::runtime_error("cannot create " + (dir / "config.json").string());
  config << config_to_json(weights.config).dump(2) << '\n';
}

}  // namespace model
