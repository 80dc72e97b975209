#include "tiny_model.hpp"

#include <unistd.h>

namespace eval_test {

model::ModelConfig tiny_config(int vocab_size) {
  model::ModelConfig c;
  c.vocab_size = vocab_size;
  c.hidden_size = 32;
  c.layers = 4;
  c.heads = 2;
  c.kv_heads = 2;
  c.head_dim = 16;
  c.intermediate_size = 64;
  c.max_positions = 128;
  return c;
}

model::TransformerWeights tiny_weights(int vocab_size) { return model::random_weights(tiny_config(vocab_size), 11, 0.5); }

std::filesystem::path source_dir() { return MPCACHE_SOURCE_DIR; }
std::filesystem::path kjv_tokenizer_dir() { return source_dir() / "models/kjv-gpt2"; }
model::Tokenizer kjv_tokenizer() { return model::Tokenizer::load(kjv_tokenizer_dir()); }

std::string sample_text(int copies) {
  const std::string verses =
      "Vanity of vanities, saith the Preacher, vanity of vanities; all is vanity.\n"
      "What profit hath a man of all his labour which he taketh under the sun?\n"
      "One generation passeth away, and another generation cometh: but the earth abideth for ever.\n"
      "The sun also ariseth, and the sun goeth down, and hasteth to his place where he arose.\n"
      "All the rivers run into the sea; yet the sea is not full.\n";
  std::string text;
  for (int i = 0; i < copies; ++i) text += verses;
  return text;
}

std::filesystem::path temp_dir(const std::string& name) {
  const auto dir = std::filesystem::temp_directory_path() / ("mpcache_eval_test_" + std::to_string(::getpid()) + "_" + name);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace eval_test
