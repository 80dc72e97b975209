// Small seeded random models and text shared by the evaluation tests.
#pragma once

#include "model/tokenizer.hpp"
#include "model/weights.hpp"

#include <filesystem>
#include <string>

namespace eval_test {

// GPT-2 shape, large enough for several cache clusters and pages (128 positions).
model::ModelConfig tiny_config(int vocab_size = 64);
// Weights with a large scale so that attention is far from uniform and eviction changes results.
model::TransformerWeights tiny_weights(int vocab_size = 64);

std::filesystem::path source_dir();
std::filesystem::path kjv_tokenizer_dir();
model::Tokenizer kjv_tokenizer();

// A few lines of KJV-style text repeated `copies` times, one verse a line.
std::string sample_text(int copies);

// A fresh empty directory under the system temp dir, unique per test process and name.
std::filesystem::path temp_dir(const std::string& name);

}  // namespace eval_test
