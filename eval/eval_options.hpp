// Options of `mpcache eval`, their command-line flags and their validation.
#pragma once

#include "kvcache/policy_config.hpp"
#include "model/config.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace eval {

struct EvalOptions {
  std::filesystem::path model_dir;
  std::vector<std::filesystem::path> text_files;  // held-out text, one verse (or sentence) a line
  std::vector<std::string> tasks = {"perplexity", "needle", "agreement"};
  std::vector<std::string> policies;  // empty: every policy; the full cache always runs as the reference
  std::vector<double> budgets = {0.05, 0.1, 0.2, 0.5};

  // Perplexity: documents of `context` tokens; the last `continuation_tokens` are teacher-forced.
  std::vector<int> contexts = {512, 1024};
  int documents = 4;
  int continuation_tokens = 128;

  // Needle in a haystack; a length counts the prompt plus the expected answer.
  std::vector<int> needle_lengths = {256, 512, 1024};
  std::vector<double> needle_depths = {0.1, 0.5, 0.9};
  int needles = 2;               // how many of the built-in needles
  int needle_answer_tokens = 6;  // answer tokens that must be reproduced

  // Greedy agreement with the full cache.
  int agreement_prompts = 4;
  int agreement_prompt_length = 512;
  int generate_tokens = 32;

  int threads = 1;
  std::uint64_t seed = 1;
  bool quiet = false;  // no progress on stderr
  std::filesystem::path json_path, csv_path, markdown_path;
  kvcache::PolicyConfig policy_config;

  bool runs(const std::string& task) const;
};

std::vector<std::string> task_names();

// Checks what does not depend on the model; throws std::invalid_argument naming the flag.
void validate_options(const EvalOptions& options);
// Checks that every prompt and generation fits the model's context.
void validate_for_model(const EvalOptions& options, const model::ModelConfig& config);

// The policies to run: the full cache first (the reference), then the requested ones in the
// order of kvcache::policy_names(), each once.
std::vector<std::string> resolved_policies(const EvalOptions& options);

}  // namespace eval
