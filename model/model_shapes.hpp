// Named model shapes for benchmarks with seeded random weights: the cost of a secure decode step
// depends on the shape and the cache length, not on the weight values.
#pragma once

#include "model/config.hpp"

#include <string>
#include <vector>

namespace model {

// "gpt2-small" (768 hidden, 12 layers, 12 heads, 50257 tokens), "gpt2-1024h32" (1024 hidden,
// 32 heads of 32, otherwise GPT-2-small) and "tiny" (64 hidden, 2 layers, 4 heads, GPT-2
// vocabulary; for tests). `max_positions` sets the context. Throws std::invalid_argument for
// other names.
ModelConfig named_shape(const std::string& name, int max_positions);
std::vector<std::string> shape_names();

}  // namespace model
