// Autoregressive generation on the plaintext engine, with timing of the prefill and the decode steps.
#pragma once

#include "model/sampling.hpp"
#include "model/transformer.hpp"

#include <optional>
#include <span>
#include <vector>

namespace model {

struct GenerationOptions {
  int max_new_tokens = 32;
  SamplingOptions sampling;
  std::optional<int> stop_token;  // generation ends after emitting it
};

struct GenerationResult {
  std::vector<int> tokens;  // generated tokens only (the prompt excluded)
  double prefill_ms = 0.0;
  double decode_ms = 0.0;  // total over all decode steps
  int decode_steps = 0;

  double ms_per_token() const { return decode_steps ? decode_ms / decode_steps : 0.0; }
};

// The rule every command applies before any work starts: prompt tokens + new tokens <= context.
// Throws std::invalid_argument with the one message all commands print.
void check_fits_context(int prompt_tokens, int new_tokens, int context);

// Generates up to max_new_tokens after `prompt`, never past the model's context.
GenerationResult generate(Transformer& engine, std::span<const int> prompt, const GenerationOptions& options,
                          kvcache::CachePolicy* policy = nullptr);

}  // namespace model
