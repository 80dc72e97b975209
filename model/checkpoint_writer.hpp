// Writes a TransformerWeights back out as a Hugging Face checkpoint folder (config.json +
// model.safetensors with GPT-2 or LLaMA tensor names), e.g. to save seeded random weights of a
// given shape for benchmarks and tests. load_weights() reads the result back unchanged (up to dtype).
#pragma once

#include "model/safetensors.hpp"
#include "model/weights.hpp"

#include <filesystem>
#include <vector>

namespace model {

nlohmann::json config_to_json(const ModelConfig& config);
std::vector<TensorToWrite> checkpoint_tensors(const TransformerWeights& weights);
void save_checkpoint(const std::filesystem::path& dir, const TransformerWeights& weights, DType dtype);

}  // namespace model
