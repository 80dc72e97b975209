#include "parties/eval_flags.hpp"

#include "eval/needle.hpp"
#include "kvcache/registry/policy_registry.hpp"
#include "parties/default_model.hpp"
#include "parties/policy_flags.hpp"

#include <CLI/CLI.hpp>

namespace parties {

void add_eval_flags(CLI::App& app, eval::EvalOptions& o) {
  if (o.model_dir.empty()) o.model_dir = default_model_dir();
  app.add_option("--model", o.model_dir, "model folder (config.json, model.safetensors and tokenizer files)")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
  app.add_option("--text", o.text_files, "evaluation text files (held-out text, e.g. tools/kjv_corpus.py --heldout)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--tasks", o.tasks, "tasks to run: perplexity, needle, agreement")
      ->delimiter(',')
      ->check(CLI::IsMember(eval::task_names()))
      ->capture_default_str();
  app.add_option("--policies", o.policies, "cache policies to compare with the full cache (default: all)")
      ->delimiter(',')
      ->check(CLI::IsMember(kvcache::policy_names()));
  app.add_option("--budgets", o.budgets, "budgets as fractions of the prompt length, each in (0, 1]")
      ->delimiter(',')
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--context", o.contexts, "perplexity: document lengths in tokens")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--documents", o.documents, "perplexity: documents per context length")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--continuation-tokens", o.continuation_tokens,
                 "perplexity: tokens at the end of each document scored by teacher forcing")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--needle-lengths", o.needle_lengths, "needle: sequence lengths in tokens (prompt plus expected answer)")
      ->delimiter(',')
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--needle-depths", o.needle_depths, "needle: depths of the needle in the haystack, each in [0, 1]")
      ->delimiter(',')
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  app.add_option("--needles", o.needles, "needle: how many of the built-in needles to use")
      ->check(CLI::Range(1, static_cast<int>(eval::builtin_needles().size())))
      ->capture_default_str();
  app.add_option("--needle-answer-tokens", o.needle_answer_tokens, "needle: answer tokens that must be reproduced")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--agreement-prompts", o.agreement_prompts, "agreement: number of prompts")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--agreement-prompt-length", o.agreement_prompt_length, "agreement: prompt length in tokens")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--generate-tokens", o.generate_tokens, "agreement: greedy tokens generated per prompt")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_option("--threads", o.threads, "evaluation jobs run in parallel")
      ->check(CLI::Range(1, 64))
      ->capture_default_str();
  app.add_option("--seed", o.seed, "seed of the needle haystacks and the agreement prompts")->capture_default_str();
  app.add_flag("--quiet", o.quiet, "no progress on stderr");
  app.add_option("--json", o.json_path, "write every result (and every case) as JSON");
  app.add_option("--csv", o.csv_path, "write one row per task/policy/budget/length as CSV");
  app.add_option("--markdown", o.markdown_path, "write the summary tables as Markdown");
  add_policy_flags(app, o.policy_config);
}

}  // namespace parties
