#include "model/weights.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <sstream>
#include <stdexcept>

namespace model {
namespace {

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::ostringstream out;
  out << '[';
  for (std::size_t i = 0; i < shape.size(); ++i) out << (i ? ", " : "") << shape[i];
  out << ']';
  return out.str();
}

// Looks tensors up across the checkpoint's files and remembers which were used, so that tensors
// the config does not explain (a config/checkpoint mismatch) are reported.
class TensorSource {
 public:
  explicit TensorSource(const std::vector<const SafetensorsFile*>& files) : files_(files) {}

  bool has(const std::string& name) const { return find(name) != nullptr; }

  FloatMatrix matrix(const std::string& name, std::int64_t rows, std::int64_t cols) {
    return finite(name, checked(name, {rows, cols}).matrix(name));
  }
  Vector vector(const std::string& name, std::int64_t size) { return finite(name, checked(name, {size}).matrix(name)).row(0); }
  Vector optional_vector(const std::string& name, std::int64_t size) { return has(name) ? vector(name, size) : Vector(); }

  // Tensors never read, except buffers that checkpoints carry but the model recomputes.
  void reject_unused() const {
    for (const SafetensorsFile* file : files_) {
      for (const std::string& name : file->names()) {
        if (used_.count(name) || is_buffer(name)) continue;
        throw std::invalid_argument(file->source() + ": unexpected tensor '" + name +
                                    "' (the checkpoint does not match config.json)");
      }
    }
  }

 private:
  static bool is_buffer(const std::string& name) {
    auto ends_with = [&](const std::string& suffix) {
      return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    return ends_with("attn.bias") || ends_with("attn.masked_bias") || ends_with("rotary_emb.inv_freq");
  }

  const SafetensorsFile* find(const std::string& name) const {
    for (const SafetensorsFile* file : files_)
      if (file->contains(name)) return file;
    return nullptr;
  }

  // A NaN or infinite weight would make every output garbage (and cannot be encoded in fixed point).
  FloatMatrix finite(const std::string& name, FloatMatrix m) const {
    if (m.allFinite()) return m;
    for (Eigen::Index i = 0; i < m.size(); ++i) {
      const double v = m.data()[i];  // row-major: element i is at (i / cols, i % cols)
      if (std::isfinite(v)) continue;
      throw std::invalid_argument(find(name)->source() + ": tensor '" + name + "' holds a non-finite value (" +
                                  (std::isnan(v) ? "NaN" : v > 0 ? "+inf" : "-inf") + ") at [" +
                                  std::to_string(i / m.cols()) + ", " + std::to_string(i % m.cols()) + "]");
    }
    return m;
  }

  const SafetensorsFile& checked(const std::string& name, const std::vector<std::int64_t>& expected) {
    const SafetensorsFile* file = find(name);
    if (!file) throw std::invalid_argument("checkpoint has no tensor '" + name + "' (required by config.json)");
    const auto& actual = file->info(name).shape;
    if (actual != expected)
      throw std::invalid_argument(file->source() + ": tensor '" + name + "' has shape " + shape_text(actual) +
                                  " but config.json implies " + shape_text(expected));
    used_.insert(name);
    return *file;
  }

  std::vector<const SafetensorsFile*> files_;
  std::set<std::string> used_;
};

TransformerWeights gpt2_weights(const ModelConfig& c, TensorSource& src) {
  const std::string p = src.has("transformer.wte.weight") ? "transformer." : "";
  const std::int64_t h = c.hidden_size, inner = c.intermediate_size;
  TransformerWeights w;
  w.config = c;
  w.token_embedding = src.matrix(p + "wte.weight", c.vocab_size, h);
  w.position_embedding = src.matrix(p + "wpe.weight", c.max_positions, h);
  for (int i = 0; i < c.layers; ++i) {
    const std::string l = p + "h." + std::to_string(i) + ".";
    LayerWeights lw;
    lw.attn_norm_weight = src.vector(l + "ln_1.weight", h);
    lw.attn_norm_bias = src.vector(l + "ln_1.bias", h);
    const FloatMatrix qkv = src.matrix(l + "attn.c_attn.weight", h, 3 * h);
    const Vector qkv_bias = src.vector(l + "attn.c_attn.bias", 3 * h);
    lw.wq = qkv.leftCols(h);
    lw.wk = qkv.middleCols(h, h);
    lw.wv = qkv.rightCols(h);
    lw.bq = qkv_bias.head(h);
    lw.bk = qkv_bias.segment(h, h);
    lw.bv = qkv_bias.tail(h);
    lw.wo = src.matrix(l + "attn.c_proj.weight", h, h);
    lw.bo = src.vector(l + "attn.c_proj.bias", h);
    lw.mlp_norm_weight = src.vector(l + "ln_2.weight", h);
    lw.mlp_norm_bias = src.vector(l + "ln_2.bias", h);
    lw.w_up = src.matrix(l + "mlp.c_fc.weight", h, inner);
    lw.b_up = src.vector(l + "mlp.c_fc.bias", inner);
    lw.w_down = src.matrix(l + "mlp.c_proj.weight", inner, h);
    lw.b_down = src.vector(l + "mlp.c_proj.bias", h);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm_weight = src.vector(p + "ln_f.weight", h);
  w.final_norm_bias = src.vector(p + "ln_f.bias", h);
  if (src.has("lm_head.weight")) w.lm_head = src.matrix("lm_head.weight", c.vocab_size, h).transpose();
  return w;
}

// nn.Linear stores out x in; the engine multiplies activations on the left, so transpose.
FloatMatrix linear(TensorSource& src, const std::string& name, std::int64_t out, std::int64_t in) {
  return src.matrix(name, out, in).transpose();
}

TransformerWeights llama_weights(const ModelConfig& c, TensorSource& src) {
  const std::int64_t h = c.hidden_size, q = c.heads * c.head_dim, kv = c.kv_heads * c.head_dim, inner = c.intermediate_size;
  TransformerWeights w;
  w.config = c;
  w.token_embedding = src.matrix("model.embed_tokens.weight", c.vocab_size, h);
  for (int i = 0; i < c.layers; ++i) {
    const std::string l = "model.layers." + std::to_string(i) + ".";
    LayerWeights lw;
    lw.attn_norm_weight = src.vector(l + "input_layernorm.weight", h);
    lw.wq = linear(src, l + "self_attn.q_proj.weight", q, h);
    lw.wk = linear(src, l + "self_attn.k_proj.weight", kv, h);
    lw.wv = linear(src, l + "self_attn.v_proj.weight", kv, h);
    lw.bq = src.optional_vector(l + "self_attn.q_proj.bias", q);
    lw.bk = src.optional_vector(l + "self_attn.k_proj.bias", kv);
    lw.bv = src.optional_vector(l + "self_attn.v_proj.bias", kv);
    lw.wo = linear(src, l + "self_attn.o_proj.weight", h, q);
    lw.bo = src.optional_vector(l + "self_attn.o_proj.bias", h);
    lw.mlp_norm_weight = src.vector(l + "post_attention_layernorm.weight", h);
    lw.w_gate = linear(src, l + "mlp.gate_proj.weight", inner, h);
    lw.w_up = linear(src, l + "mlp.up_proj.weight", inner, h);
    lw.w_down = linear(src, l + "mlp.down_proj.weight", h, inner);
    w.layers.push_back(std::move(lw));
  }
  w.final_norm_weight = src.vector("model.norm.weight", h);
  if (src.has("lm_head.weight")) {
    w.lm_head = linear(src, "lm_head.weight", c.vocab_size, h);
  } else if (!c.tie_word_embeddings) {
    throw std::invalid_argument("checkpoint has no 'lm_head.weight' and config.json does not tie word embeddings");
  }
  return w;
}

std::vector<std::filesystem::path> checkpoint_files(const std::filesystem::path& dir) {
  const auto single = dir / "model.safetensors";
  if (std::filesystem::exists(single)) return {single};
  const auto index_path = dir / "model.safetensors.index.json";
  std::ifstream in(index_path);
  if (!in) throw std::runtime_error("no model.safetensors or model.safetensors.index.json in " + dir.string());
  const nlohmann::json index = nlohmann::json::parse(in, nullptr, false);
  if (index.is_discarded() || !index.contains("weight_map") || !index["weight_map"].is_object())
    throw std::invalid_argument(index_path.string() + ": expected a JSON object with a 'weight_map'");
  std::set<std::string> shards;
  for (const auto& [tensor, file] : index["weight_map"].items()) {
    if (!file.is_string()) throw std::invalid_argument(index_path.string() + ": weight_map values must be file names");
    shards.insert(file.get<std::string>());
  }
  std::vector<std::filesystem::path> out;
  for (const std::string& shard : shards) out.push_back(dir / shard);
  return out;
}

}  // namespace

void TransformerWeights::finalize() { token_embedding_t_ = lm_head.size() ? FloatMatrix() : FloatMatrix(token_embedding.transpose()); }

TransformerWeights weights_from_safetensors(const ModelConfig& config, const std::vector<const SafetensorsFile*>& files) {
  config.validate();
  TensorSource src(files);
  TransformerWeights w = config.architecture == Architecture::Gpt2 ? gpt2_weights(config, src) : llama_weights(config, src);
  src.reject_unused();
  w.finalize();
  return w;
}

TransformerWeights load_weights(const std::filesystem::path& dir) {
  const ModelConfig config = ModelConfig::load(dir / "config.json");
  std::vector<SafetensorsFile> files;
  for (const auto& path : checkpoint_files(dir)) files.push_back(SafetensorsFile::open(path));
  std::vector<const SafetensorsFile*> pointers;
  for (const auto& f : files) pointers.push_back(&f);
  return weights_from_safetensors(config, pointers);
}

TransformerWeights random_weights(const ModelConfig& c, std::uint64_t seed, double scale) {
  c.validate();
  std::mt19937_64 rng(seed);
  // Uniform with the standard deviation `scale`; built from raw engine output so the values are
  // the same with every standard library.
  auto uniform = [&]() { return (static_cast<double>(rng() >> 11) * 0x1.0p-53 * 2.0 - 1.0) * 1.7320508075688772; };
  auto random = [&](Eigen::Index rows, Eigen::Index cols, double s) {
    FloatMatrix m(rows, cols);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = s * uniform();
    return m;
  };
  auto vec = [&](Eigen::Index n, double center, double s) { return Vector(random(1, n, s).row(0).array() + center); };
  const bool gpt2 = c.architecture == Architecture::Gpt2;
  const Eigen::Index h = c.hidden_size, q = c.heads * c.head_dim, kv = c.kv_heads * c.head_dim, inner = c.intermediate_size;
  TransformerWeights w;
  w.config = c;
  w.token_embedding = random(c.vocab_size, h, scale);
  if (gpt2) w.position_embedding = random(c.max_positions, h, scale);
  for (int i = 0; i < c.layers; ++i) {
    LayerWeights lw;
    lw.attn_norm_weight = vec(h, 1.0, 0.1);
    lw.mlp_norm_weight = vec(h, 1.0, 0.1);
    lw.wq = random(h, q, scale);
    lw.wk = random(h, kv, scale);
    lw.wv = random(h, kv, scale);
    lw.wo = random(q, h, scale);
    lw.w_up = random(h, inner, scale);
    lw.w_down = random(inner, h, scale);
    if (gpt2) {
      lw.attn_norm_bias = vec(h, 0.0, scale);
      lw.mlp_norm_bias = vec(h, 0.0, scale);
      lw.bq = vec(q, 0.0, scale);
      lw.bk = vec(kv, 0.0, scale);
      lw.bv = vec(kv, 0.0, scale);
      lw.bo = vec(h, 0.0, scale);
      lw.b_up = vec(inner, 0.0, scale);
      lw.b_down = vec(h, 0.0, scale);
    } else {
      lw.w_gate = random(h, inner, scale);
    }
    w.layers.push_back(std::move(lw));
  }
  w.final_norm_weight = vec(h, 1.0, 0.1);
  if (gpt2) w.final_norm_bias = vec(h, 0.0, scale);
  if (!c.tie_word_embeddings) w.lm_head = random(h, c.vocab_size, scale);
  w.finalize();
  return w;
}

}  // namespace model
