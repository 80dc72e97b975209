#include "model/config.hpp"

#include <gtest/gtest.h>

namespace {

using model::Architecture;
using model::ModelConfig;
using nlohmann::json;

json gpt2_small() {
  return json::parse(R"({"model_type": "gpt2", "vocab_size": 50257, "n_positions": 1024, "n_embd": 768,
                         "n_layer": 12, "n_head": 12, "layer_norm_epsilon": 1e-5, "activation_function": "gelu_new"})");
}

json tiny_llama() {
  return json::parse(R"({"architectures": ["LlamaForCausalLM"], "model_type": "llama", "hidden_size": 64,
                         "num_hidden_layers": 2, "num_attention_heads": 8, "num_key_value_heads": 2,
                         "intermediate_size": 172, "rms_norm_eps": 1e-6, "rope_theta": 500000.0,
                         "max_position_embeddings": 256, "vocab_size": 300, "tie_word_embeddings": true,
                         "hidden_act": "silu"})");
}

TEST(ModelConfig, ReadsGpt2Keys) {
  const ModelConfig c = ModelConfig::from_json(gpt2_small());
  EXPECT_EQ(c.architecture, Architecture::Gpt2);
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.layers, 12);
  EXPECT_EQ(c.heads, 12);
  EXPECT_EQ(c.kv_heads, 12);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.intermediate_size, 3072);
  EXPECT_EQ(c.max_positions, 1024);
  EXPECT_EQ(c.vocab_size, 50257);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-5);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.activation, model::Activation::GeluTanh);
}

TEST(ModelConfig, ReadsLlamaKeys) {
  const ModelConfig c = ModelConfig::from_json(tiny_llama());
  EXPECT_EQ(c.architecture, Architecture::Llama);
  EXPECT_EQ(c.heads, 8);
  EXPECT_EQ(c.kv_heads, 2);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_EQ(c.intermediate_size, 172);
  EXPECT_EQ(c.max_positions, 256);
  EXPECT_DOUBLE_EQ(c.rope_theta, 500000.0);
  EXPECT_DOUBLE_EQ(c.norm_eps, 1e-6);
  EXPECT_TRUE(c.tie_word_embeddings);
  const auto shape = c.shape();
  EXPECT_EQ(shape.layers, 2);
  EXPECT_EQ(shape.query_heads, 8);
  EXPECT_EQ(shape.kv_heads, 2);
  EXPECT_EQ(shape.head_dim, 8);
}

TEST(ModelConfig, ArchitectureFromArchitecturesList) {
  json j = gpt2_small();
  j.erase("model_type");
  j["architectures"] = {"GPT2LMHeadModel"};
  EXPECT_EQ(ModelConfig::from_json(j).architecture, Architecture::Gpt2);
}

void expect_error(const json& j, const std::string& fragment) {
  try {
    ModelConfig::from_json(j, "cfg.json");
    FAIL() << "expected an error mentioning '" << fragment << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("cfg.json"), std::string::npos) << e.what();
  }
}

TEST(ModelConfig, RejectsInvalidConfigs) {
  json j = gpt2_small();
  j.erase("n_embd");
  expect_error(j, "n_embd");
  j = gpt2_small();
  j["n_head"] = 5;
  expect_error(j, "divisible");
  j = gpt2_small();
  j["n_layer"] = 0;
  expect_error(j, "layers");
  j = gpt2_small();
  j["n_embd"] = "768";
  expect_error(j, "integer");
  j = gpt2_small();
  j["model_type"] = "bert";
  expect_error(j, "bert");
  j = tiny_llama();
  j["num_key_value_heads"] = 3;
  expect_error(j, "multiple");
  j = tiny_llama();
  j["rope_scaling"] = {{"type", "linear"}, {"factor", 2.0}};
  expect_error(j, "rope_scaling");
  j = tiny_llama();
  j["hidden_act"] = "relu";
  expect_error(j, "relu");
  expect_error(json::array(), "object");
}

TEST(ModelConfig, LoadReportsMissingAndMalformedFiles) {
  EXPECT_THROW(ModelConfig::load("/nonexistent/config.json"), std::runtime_error);
}

}  // namespace
