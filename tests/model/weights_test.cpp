#include "model/checkpoint_writer.hpp"
#include "model/weights.hpp"

#include "test_paths.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <limits>

namespace {

using model::Architecture;
using model::ModelConfig;
using model::SafetensorsFile;

ModelConfig tiny(Architecture architecture) {
  ModelConfig c;
  c.architecture = architecture;
  c.activation = architecture == Architecture::Gpt2 ? model::Activation::GeluTanh : model::Activation::Silu;
  c.vocab_size = 40;
  c.hidden_size = 16;
  c.layers = 2;
  c.heads = 4;
  c.kv_heads = architecture == Architecture::Gpt2 ? 4 : 2;
  c.head_dim = 4;
  c.intermediate_size = 24;
  c.max_positions = 32;
  c.tie_word_embeddings = architecture == Architecture::Gpt2;
  c.validate();
  return c;
}

SafetensorsFile file_of(const std::vector<model::TensorToWrite>& tensors) {
  return SafetensorsFile::parse(model::serialize_safetensors(tensors, model::DType::F32), "ckpt.safetensors");
}

void expect_same(const model::TransformerWeights& a, const model::TransformerWeights& b) {
  ASSERT_EQ(a.layers.size(), b.layers.size());
  EXPECT_TRUE(a.token_embedding.isApprox(b.token_embedding, 1e-6));
  EXPECT_TRUE(a.output_matrix().isApprox(b.output_matrix(), 1e-6));
  for (std::size_t i = 0; i < a.layers.size(); ++i) {
    EXPECT_TRUE(a.layers[i].wq.isApprox(b.layers[i].wq, 1e-6));
    EXPECT_TRUE(a.layers[i].wk.isApprox(b.layers[i].wk, 1e-6));
    EXPECT_TRUE(a.layers[i].wv.isApprox(b.layers[i].wv, 1e-6));
    EXPECT_TRUE(a.layers[i].wo.isApprox(b.layers[i].wo, 1e-6));
    EXPECT_TRUE(a.layers[i].w_up.isApprox(b.layers[i].w_up, 1e-6));
    EXPECT_TRUE(a.layers[i].w_down.isApprox(b.layers[i].w_down, 1e-6));
    EXPECT_EQ(a.layers[i].w_gate.size(), b.layers[i].w_gate.size());
    if (a.layers[i].w_gate.size()) {
      EXPECT_TRUE(a.layers[i].w_gate.isApprox(b.layers[i].w_gate, 1e-6));
    }
    EXPECT_EQ(a.layers[i].bq.size(), b.layers[i].bq.size());
  }
}

TEST(Weights, Gpt2CheckpointRoundTrip) {
  const auto original = model::random_weights(tiny(Architecture::Gpt2), 7);
  const auto dir = model_test::temp_dir("gpt2_ckpt");
  model::save_checkpoint(dir, original, model::DType::F32);
  const auto loaded = model::load_weights(dir);
  EXPECT_EQ(loaded.config.architecture, Architecture::Gpt2);
  EXPECT_EQ(loaded.lm_head.size(), 0);  // tied
  expect_same(original, loaded);
  // Conv1D layout: c_attn is hidden x 3*hidden, split into q, k, v column blocks.
  const auto file = SafetensorsFile::open(dir / "model.safetensors");
  EXPECT_EQ(file.info("h.0.attn.c_attn.weight").shape, (std::vector<std::int64_t>{16, 48}));
  EXPECT_DOUBLE_EQ(file.matrix("h.0.attn.c_attn.weight")(3, 16 + 5), static_cast<float>(original.layers[0].wk(3, 5)));
}

TEST(Weights, LlamaCheckpointRoundTripTransposesLinearWeights) {
  const auto original = model::random_weights(tiny(Architecture::Llama), 9);
  const auto dir = model_test::temp_dir("llama_ckpt");
  model::save_checkpoint(dir, original, model::DType::F32);
  const auto file = SafetensorsFile::open(dir / "model.safetensors");
  EXPECT_EQ(file.info("model.layers.1.self_attn.k_proj.weight").shape, (std::vector<std::int64_t>{8, 16}));  // out x in
  EXPECT_TRUE(file.contains("lm_head.weight"));
  const auto loaded = model::load_weights(dir);
  EXPECT_EQ(loaded.config.kv_heads, 2);
  EXPECT_EQ(loaded.layers[1].wk.rows(), 16);
  expect_same(original, loaded);
}

TEST(Weights, AcceptsTransformerPrefixAndIgnoresBuffers) {
  const auto original = model::random_weights(tiny(Architecture::Gpt2), 3);
  auto tensors = model::checkpoint_tensors(original);
  for (auto& t : tensors) t.name = "transformer." + t.name;
  tensors.push_back({"transformer.h.0.attn.bias", {1, 1, 2, 2}, {1, 0, 1, 1}});
  const auto file = file_of(tensors);
  expect_same(original, model::weights_from_safetensors(original.config, {&file}));
}

void expect_error(const std::function<void()>& f, const std::vector<std::string>& fragments) {
  try {
    f();
    FAIL() << "expected an error";
  } catch (const std::invalid_argument& e) {
    for (const auto& fragment : fragments) EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(Weights, ShapeMismatchWithConfigIsAnError) {
  const auto original = model::random_weights(tiny(Architecture::Gpt2), 5);
  const auto file = file_of(model::checkpoint_tensors(original));
  ModelConfig wider = original.config;
  wider.intermediate_size = 32;
  expect_error([&] { model::weights_from_safetensors(wider, {&file}); },
               {"ckpt.safetensors", "h.0.mlp.c_fc.weight", "[16, 24]", "[16, 32]"});
  ModelConfig shorter = original.config;
  shorter.max_positions = 16;
  expect_error([&] { model::weights_from_safetensors(shorter, {&file}); }, {"wpe.weight"});
  ModelConfig fewer_layers = original.config;
  fewer_layers.layers = 1;
  expect_error([&] { model::weights_from_safetensors(fewer_layers, {&file}); }, {"unexpected tensor 'h.1."});
  ModelConfig more_layers = original.config;
  more_layers.layers = 3;
  expect_error([&] { model::weights_from_safetensors(more_layers, {&file}); }, {"no tensor 'h.2.ln_1.weight'"});
}

TEST(Weights, UntiedLlamaWithoutLmHeadIsAnError) {
  const auto original = model::random_weights(tiny(Architecture::Llama), 11);
  auto tensors = model::checkpoint_tensors(original);
  std::erase_if(tensors, [](const auto& t) { return t.name == "lm_head.weight"; });
  const auto file = file_of(tensors);
  expect_error([&] { model::weights_from_safetensors(original.config, {&file}); }, {"lm_head.weight"});
}

// A saved checkpoint with one value of one tensor replaced, in fp16 as the project's model is stored.
std::filesystem::path checkpoint_with(const std::string& dir_name, const std::string& tensor, float value) {
  const auto original = model::random_weights(tiny(Architecture::Gpt2), 13);
  const auto dir = model_test::temp_dir(dir_name);
  model::save_checkpoint(dir, original, model::DType::F16);
  auto tensors = model::checkpoint_tensors(original);
  for (auto& t : tensors)
    if (t.name == tensor) t.values[5] = value;
  model::write_safetensors(dir / "model.safetensors", tensors, model::DType::F16);
  return dir;
}

TEST(Weights, NonFiniteValuesAreRejectedNamingTheTensor) {
  const auto nan_dir = checkpoint_with("nan_ckpt", "h.1.mlp.c_fc.weight", std::numeric_limits<float>::quiet_NaN());
  expect_error([&] { model::load_weights(nan_dir); }, {"h.1.mlp.c_fc.weight", "NaN", "[0, 5]"});
  const auto inf_dir = checkpoint_with("inf_ckpt", "ln_f.bias", -std::numeric_limits<float>::infinity());
  expect_error([&] { model::load_weights(inf_dir); }, {"ln_f.bias", "-inf"});
  // fp16 overflows to infinity above 65504: a value too large for the format is caught the same way.
  const auto big_dir = checkpoint_with("big_ckpt", "wte.weight", 1e6f);
  expect_error([&] { model::load_weights(big_dir); }, {"wte.weight", "+inf"});
  EXPECT_NO_THROW(model::load_weights(checkpoint_with("finite_ckpt", "wte.weight", 0.5f)));
}

TEST(Weights, MissingCheckpointFilesAreReported) {
  const auto dir = model_test::temp_dir("empty_ckpt");
  EXPECT_THROW(model::load_weights(dir), std::runtime_error);
  std::ofstream(dir / "config.json") << model::config_to_json(tiny(Architecture::Gpt2)).dump();
  EXPECT_THROW(model::load_weights(dir), std::runtime_error);
}

}  // namespace
