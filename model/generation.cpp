#include "model/generation.hpp"

#include <algorithm>
#include <chrono>
#include <stdexcept>

namespace model {
namespace {

double elapsed_ms(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

void check_fits_context(int prompt_tokens, int new_tokens, int context) {
  if (static_cast<long>(prompt_tokens) + new_tokens <= context) return;
  throw std::invalid_argument("prompt of " + std::to_string(prompt_tokens) + " tokens plus " + std::to_string(new_tokens) +
                              " new tokens exceeds the model's context of " + std::to_string(context) +
                              " positions (prompt tokens + new tokens must be at most " + std::to_string(context) + ")");
}

GenerationResult generate(Transformer& engine, std::span<const int> prompt, const GenerationOptions& options,
                          kvcache::CachePolicy* policy) {
  if (options.max_new_tokens < 0) throw std::invalid_argument("max_new_tokens must be >= 0");
  const int room = engine.config().max_positions - static_cast<int>(prompt.size());
  if (room < 0)
    throw std::out_of_range("prompt of " + std::to_string(prompt.size()) + " tokens exceeds the model's context of " +
                            std::to_string(engine.config().max_positions));
  // The last generated token is never fed back, so the context allows room + 1 new tokens.
  const int steps = std::min(options.max_new_tokens, room + 1);
  Sampler sampler(options.sampling);
  GenerationResult result;
  auto start = std::chrono::steady_clock::now();
  Vector logits = engine.prefill(prompt, policy);
  result.prefill_ms = elapsed_ms(start);
  for (int i = 0; i < steps; ++i) {
    const int token = sampler.next(logits);
    result.tokens.push_back(token);
    if (i + 1 == steps || (options.stop_token && token == *options.stop_token)) break;
    start = std::chrono::steady_clock::now();
    logits = engine.decode(token);
    result.decode_ms += elapsed_ms(start);
    ++result.decode_steps;
  }
  return result;
}

}  // namespace model
