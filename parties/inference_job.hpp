// The private inference job: the model owner (P0) inputs the weights, the user (P1) the prompt;
// the parties run prefill and greedy decoding on shares and only P1 learns the generated tokens.
// Every party measures its own time and traffic per step, so a launcher can build the per-token table.
#pragma once

#include "parties/default_model.hpp"
#include "kvcache/policy_config.hpp"
#include "protocols/session.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace parties {

struct InferenceJobOptions {
  std::string model_dir = default_model_dir();  // P0 reads the weights; everyone reads config.json
  std::string prompt;       // P1 only: the user's prompt (required; no default in a real deployment)
  std::string prompt_file;  // P1 only: read the prompt from here ("-": standard input) instead
  int new_tokens = 8;
  // 0: greedy (secure argmax). > 0: sampling from softmax(logits / temperature) with noise drawn
  // by P1 (public temperature, secret noise).
  double temperature = 0.0;
  // P1 only: seed of its sampling noise, for reproducible runs; unset = fresh OS randomness.
  std::optional<std::uint64_t> sampling_seed;
  // The secure cache policy (private_inference_policy_names()); its budget is a share of the
  // prompt (policy_config.budget), MPCache uses its own ratios.
  std::string policy = "full";
  kvcache::PolicyConfig policy_config;
  // How the non-linear operators compare (--nonlinear): the session is opened with it.
  protocols::Comparisons comparisons = protocols::Comparisons::boolean;
};

// Policies a private prefill can run: those whose prompt-time work is done on shares (H2O and
// TOVA would need a secret prompt-time eviction to their budget, which only the long-context
// benchmark's cache source provides).
std::vector<std::string> private_inference_policy_names();

// Time and traffic of one step (the prefill with the first token, or one further token) as seen
// by one party. Offline bytes are the 2PC dealer's traffic.
struct StepFigures {
  double seconds = 0;
  std::uint64_t online_bytes_sent = 0;
  std::uint64_t offline_bytes_sent = 0;
  std::uint64_t rounds = 0;
  nlohmann::json to_json() const;
};

struct InferenceJobResult {
  int prompt_length = 0;
  StepFigures weights, prefill;
  std::vector<StepFigures> tokens;  // one per generated token after the first
  std::vector<int> generated;       // P1 only
  std::string text;                 // P1 only: the decoded continuation
  nlohmann::json to_json() const;
};

// The public description all parties must agree on before running (model shape and job).
std::string inference_session_config(const InferenceJobOptions& options);

// Runs the job as this party in the open `session` (its comparison method is options.comparisons):
// the transformer and the cache policy share its operators' set-up.
InferenceJobResult run_inference_job(protocols::Session& session, const InferenceJobOptions& options);

// P1: reads the prompt from `prompt_file` when given (one trailing newline dropped); refuses to go
// on without a prompt. Throws std::invalid_argument.
void read_user_prompt(InferenceJobOptions& options);

// The user's checks of its own prompt (empty, longer than the context), so that P1 can refuse
// before connecting to anyone. Throws std::invalid_argument.
void check_user_prompt(const InferenceJobOptions& options);

}  // namespace parties
