#include "model/config.hpp"

#include <fstream>
#include <stdexcept>

namespace model {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& message) {
  throw std::invalid_argument(source + ": " + message);
}

int required_int(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key)) fail(source, std::string("missing required key '") + key + "'");
  if (!j[key].is_number_integer()) fail(source, std::string("key '") + key + "' must be an integer");
  return j[key].get<int>();
}

int optional_int(const json& j, const char* key, int fallback, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number_integer()) fail(source, std::string("key '") + key + "' must be an integer");
  return j[key].get<int>();
}

double optional_double(const json& j, const char* key, double fallback, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_number()) fail(source, std::string("key '") + key + "' must be a number");
  return j[key].get<double>();
}

bool optional_bool(const json& j, const char* key, bool fallback, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return fallback;
  if (!j[key].is_boolean()) fail(source, std::string("key '") + key + "' must be true or false");
  return j[key].get<bool>();
}

std::string optional_string(const json& j, const char* key, const std::string& source) {
  if (!j.contains(key) || j[key].is_null()) return {};
  if (!j[key].is_string()) fail(source, std::string("key '") + key + "' must be a string");
  return j[key].get<std::string>();
}

// model_type wins; `architectures` (e.g. ["GPT2LMHeadModel"]) is the fallback for old configs.
Architecture detect_architecture(const json& j, const std::string& source) {
  std::string type = optional_string(j, "model_type", source);
  if (type.empty() && j.contains("architectures") && j["architectures"].is_array() && !j["architectures"].empty() &&
      j["architectures"][0].is_string()) {
    std::string name = j["architectures"][0].get<std::string>();
    if (name.rfind("GPT2", 0) == 0) type = "gpt2";
    if (name.rfind("Llama", 0) == 0) type = "llama";
  }
  if (type == "gpt2") return Architecture::Gpt2;
  if (type == "llama") return Architecture::Llama;
  if (type.empty()) fail(source, "neither 'model_type' nor 'architectures' names the architecture");
  fail(source, "unsupported model_type '" + type + "' (supported: gpt2, llama)");
}

Activation gpt2_activation(const json& j, const std::string& source) {
  std::string name = optional_string(j, "activation_function", source);
  if (name.empty() || name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "gelu") return Activation::GeluErf;
  fail(source, "unsupported activation_function '" + name + "'");
}

ModelConfig gpt2_config(const json& j, const std::string& source) {
  ModelConfig c;
  c.architecture = Architecture::Gpt2;
  c.activation = gpt2_activation(j, source);
  c.vocab_size = required_int(j, "vocab_size", source);
  c.hidden_size = required_int(j, "n_embd", source);
  c.layers = required_int(j, "n_layer", source);
  c.heads = required_int(j, "n_head", source);
  c.kv_heads = c.heads;
  c.head_dim = c.heads > 0 ? c.hidden_size / c.heads : 0;
  c.intermediate_size = optional_int(j, "n_inner", 4 * c.hidden_size, source);
  c.max_positions = optional_int(j, "n_positions", optional_int(j, "n_ctx", 1024, source), source);
  c.norm_eps = optional_double(j, "layer_norm_epsilon", 1e-5, source);
  c.tie_word_embeddings = optional_bool(j, "tie_word_embeddings", true, source);
  return c;
}

ModelConfig llama_config(const json& j, const std::string& source) {
  ModelConfig c;
  c.architecture = Architecture::Llama;
  std::string act = optional_string(j, "hidden_act", source);
  if (!act.empty() && act != "silu") fail(source, "unsupported hidden_act '" + act + "' (LLaMA uses silu)");
  if (j.contains("rope_scaling") && !j["rope_scaling"].is_null()) fail(source, "rope_scaling is not supported");
  c.activation = Activation::Silu;
  c.vocab_size = required_int(j, "vocab_size", source);
  c.hidden_size = required_int(j, "hidden_size", source);
  c.layers = required_int(j, "num_hidden_layers", source);
  c.heads = required_int(j, "num_attention_heads", source);
  c.kv_heads = optional_int(j, "num_key_value_heads", c.heads, source);
  c.head_dim = optional_int(j, "head_dim", c.heads > 0 ? c.hidden_size / c.heads : 0, source);
  c.intermediate_size = required_int(j, "intermediate_size", source);
  c.max_positions = optional_int(j, "max_position_embeddings", 2048, source);
  c.norm_eps = optional_double(j, "rms_norm_eps", 1e-6, source);
  c.rope_theta = optional_double(j, "rope_theta", 10000.0, source);
  c.tie_word_embeddings = optional_bool(j, "tie_word_embeddings", false, source);
  return c;
}

}  // namespace

std::string to_string(Architecture architecture) { return architecture == Architecture::Gpt2 ? "gpt2" : "llama"; }

ModelConfig ModelConfig::from_json(const json& j, const std::string& source) {
  if (!j.is_object()) fail(source, "expected a JSON object");
  ModelConfig c = detect_architecture(j, source) == Architecture::Gpt2 ? gpt2_config(j, source) : llama_config(j, source);
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    fail(source, e.what());
  }
  return c;
}

ModelConfig ModelConfig::load(const std::filesystem::path& config_json) {
  std::ifstream in(config_json);
  if (!in) throw std::runtime_error("cannot open model config " + config_json.string());
  json j = json::parse(in, nullptr, false);
  if (j.is_discarded()) throw std::invalid_argument(config_json.string() + ": not valid JSON");
  return from_json(j, config_json.string());
}

void ModelConfig::validate() const {
  auto positive = [](int value, const char* name) {
    if (value <= 0) throw std::invalid_argument(std::string(name) + " must be positive, got " + std::to_string(value));
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden size");
  positive(layers, "number of layers");
  positive(heads, "number of attention heads");
  positive(kv_heads, "number of key/value heads");
  positive(head_dim, "head dimension");
  positive(intermediate_size, "intermediate size");
  positive(max_positions, "maximum positions");
  if (heads % kv_heads != 0)
    throw std::invalid_argument("attention heads (" + std::to_string(heads) + ") must be a multiple of key/value heads (" +
                                std::to_string(kv_heads) + ")");
  if (architecture == Architecture::Gpt2 && heads * head_dim != hidden_size)
    throw std::invalid_argument("hidden size " + std::to_string(hidden_size) + " is not divisible by " +
                                std::to_string(heads) + " heads");
  if (architecture == Architecture::Llama && head_dim % 2 != 0)
    throw std::invalid_argument("RoPE needs an even head dimension, got " + std::to_string(head_dim));
  if (!(norm_eps > 0)) throw std::invalid_argument("normalisation epsilon must be positive");
  if (!(rope_theta > 0)) throw std::invalid_argument("rope_theta must be positive");
}

}  // namespace model
