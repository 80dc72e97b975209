// `mpcache generate`: plaintext text generation with a local model folder (config.json,
// model.safetensors, tokenizer files), optionally under a KV-cache policy, with timing.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <ostream>
#include <string>

#include "kvcache/policy_config.hpp"

namespace parties {

struct GenerateOptions {
  std::string model_dir;
  std::string tokenizer_dir;  // empty: the model folder
  std::string prompt;
  int max_new_tokens = 32;
  double temperature = 0.0;  // 0 = greedy
  int top_k = 0;
  std::uint64_t seed = 0;
  std::string policy = "full";
  kvcache::PolicyConfig policy_config;
  std::string json_path;  // empty: no JSON report
};

// Loads the model, generates, prints the text and timing to `out`, writes the JSON report when
// asked, and returns the report.
nlohmann::json run_generate(const GenerateOptions& options, std::ostream& out);

void add_generate_command(CLI::App& app);

}  // namespace parties
