#include "parties/generate_command.hpp"

#include "kvcache/registry/policy_registry.hpp"
#include "parties/policy_flags.hpp"
#include "model/generation.hpp"
#include "model/tokenizer.hpp"
#include "model/transformer.hpp"
#include "parties/cli_options.hpp"
#include "parties/default_model.hpp"

#include <chrono>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <stdexcept>

namespace parties {

nlohmann::json run_generate(const GenerateOptions& o, std::ostream& out) {
  const auto load_start = std::chrono::steady_clock::now();
  const model::TransformerWeights weights = model::load_weights(o.model_dir);
  const model::Tokenizer tokenizer = model::Tokenizer::load(o.tokenizer_dir.empty() ? o.model_dir : o.tokenizer_dir);
  const double load_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - load_start).count();
  if (tokenizer.vocab_size() > weights.config.vocab_size)
    throw std::invalid_argument("the tokenizer has " + std::to_string(tokenizer.vocab_size()) + " tokens but the model only " +
                                std::to_string(weights.config.vocab_size));
  const std::vector<int> prompt = tokenizer.encode(o.prompt);
  if (prompt.empty()) throw std::invalid_argument("the prompt is empty");
  model::check_fits_context(static_cast<int>(prompt.size()), o.max_new_tokens, weights.config.max_positions);

  std::unique_ptr<kvcache::CachePolicy> policy;
  if (o.policy != "full") policy = kvcache::make_policy(o.policy, o.policy_config);
  model::Transformer engine(weights);
  model::GenerationOptions generation;
  generation.max_new_tokens = o.max_new_tokens;
  generation.sampling = {o.temperature, o.top_k, o.seed};
  generation.stop_token = tokenizer.eos_id();
  const model::GenerationResult result = model::generate(engine, prompt, generation, policy.get());
  const std::string text = tokenizer.decode(result.tokens);

  out << o.prompt << text << "\n\n"
      << std::fixed << std::setprecision(2) << "prompt tokens " << prompt.size() << ", generated " << result.tokens.size()
      << ", prefill " << result.prefill_ms << " ms, decode " << result.ms_per_token() << " ms/token (" << o.policy
      << " cache, model loaded in " << load_ms << " ms)\n";

  nlohmann::json report = {{"model", o.model_dir},
                           {"architecture", model::to_string(weights.config.architecture)},
                           {"prompt", o.prompt},
                           {"prompt_tokens", prompt},
                           {"generated_tokens", result.tokens},
                           {"generated_text", text},
                           {"policy", o.policy},
                           {"temperature", o.temperature},
                           {"top_k", o.top_k},
                           {"seed", o.seed},
                           {"load_ms", load_ms},
                           {"prefill_ms", result.prefill_ms},
                           {"decode_steps", result.decode_steps},
                           {"ms_per_token", result.ms_per_token()}};
  if (!o.json_path.empty()) {
    std::ofstream file(o.json_path);
    if (!file) throw std::runtime_error("cannot write " + o.json_path);
    file << report.dump(2) << '\n';
  }
  return report;
}

void add_generate_command(CLI::App& app) {
  auto o = std::make_shared<GenerateOptions>();
  auto* cmd = app.add_subcommand("generate", "generate text in plaintext with a local model folder");
  o->model_dir = default_model_dir();
  cmd->add_option("--model", o->model_dir, "folder with config.json, model.safetensors and tokenizer files")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  cmd->add_option("--tokenizer", o->tokenizer_dir, "tokenizer folder if not the model folder")->check(CLI::ExistingDirectory);
  cmd->add_option("--prompt", o->prompt, "prompt text")->required();
  cmd->add_option("--max-new-tokens", o->max_new_tokens, "tokens to generate")->check(Range(0, 1 << 20));
  cmd->add_option("--temperature", o->temperature, "0 = greedy")->check(Range(0.0, 100.0));
  cmd->add_option("--top-k", o->top_k, "sample among the k most likely tokens (0 = all)")->check(Range(0, 1 << 24));
  cmd->add_option("--seed", o->seed, "sampling seed")->check(NonNegativeInteger);
  cmd->add_option("--policy", o->policy, "KV-cache policy")->check(CLI::IsMember(kvcache::policy_names()));
  add_policy_flags(*cmd, o->policy_config);
  cmd->add_option("--json", o->json_path, "also write a JSON report to this file");
  cmd->callback([o] { run_generate(*o, std::cout); });
}

}  // namespace parties
