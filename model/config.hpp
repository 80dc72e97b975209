// Transformer configuration read from a Hugging Face `config.json` (GPT-2 or LLaMA keys).
#pragma once

#include "kvcache/policy.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

namespace model {

enum class Architecture { Gpt2, Llama };
enum class Activation { GeluTanh, GeluErf, Silu };

std::string to_string(Architecture architecture);

struct ModelConfig {
  Architecture architecture = Architecture::Gpt2;
  Activation activation = Activation::GeluTanh;
  int vocab_size = 0;
  int hidden_size = 0;
  int layers = 0;
  int heads = 0;              // query heads
  int kv_heads = 0;           // key/value heads (== heads unless grouped-query attention)
  int head_dim = 0;
  int intermediate_size = 0;  // MLP width
  int max_positions = 0;      // learned positions (GPT-2) or the trained RoPE context (LLaMA)
  double norm_eps = 1e-5;
  double rope_theta = 10000.0;
  bool tie_word_embeddings = true;

  // Parses a config.json document; `source` names it in error messages. Validates the result.
  static ModelConfig from_json(const nlohmann::json& json, const std::string& source = "config.json");
  static ModelConfig load(const std::filesystem::path& config_json);

  // Throws std::invalid_argument naming the first inconsistent field.
  void validate() const;
  kvcache::ModelShape shape() const { return {layers, heads, kv_heads, head_dim}; }
};

}  // namespace model
