#include "eval/eval_options.hpp"

#include "eval/needle.hpp"
#include "kvcache/policy_factory.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <stdexcept>

namespace eval {

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

template <typename T>
void require_all(const std::vector<T>& values, bool (*ok)(T), const std::string& flag, const std::string& rule) {
  require(!values.empty(), flag + " needs at least one value");
  for (const T& v : values) require(ok(v), flag + " " + rule + ", got " + std::to_string(v));
}

bool is_ratio(double v) { return v > 0.0 && v <= 1.0; }
bool is_depth(double v) { return v >= 0.0 && v <= 1.0; }
bool is_positive(int v) { return v > 0; }

void require_fits(int positions, const model::ModelConfig& config, const std::string& what) {
  require(positions <= config.max_positions, what + " needs " + std::to_string(positions) +
                                                 " positions, the model's context is " +
                                                 std::to_string(config.max_positions));
}

}  // namespace

std::vector<std::string> task_names() { return {"perplexity", "needle", "agreement"}; }

bool EvalOptions::runs(const std::string& task) const {
  return std::find(tasks.begin(), tasks.end(), task) != tasks.end();
}

void add_eval_flags(CLI::App& app, EvalOptions& o) {
  app.add_option("--model", o.model_dir, "model folder (config.json, model.safetensors, vocab.json, merges.txt)")
      ->required()
      ->check(CLI::ExistingDirectory);
  app.add_option("--text", o.text_files, "evaluation text files (held-out text, e.g. tools/kjv_corpus.py --heldout)")
      ->required()
      ->check(CLI::ExistingFile);
  app.add_option("--tasks", o.tasks, "tasks to run: perplexity, needle, agreement")
      ->delimiter(',')
      ->check(CLI::IsMember(task_names()))
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
      ->check(CLI::Range(1, static_cast<int>(builtin_needles().size())))
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
  kvcache::add_policy_flags(app, o.policy_config);
}

void validate_options(const EvalOptions& o) {
  require(!o.tasks.empty(), "--tasks needs at least one task");
  for (const auto& task : o.tasks) {
    const auto names = task_names();
    require(std::find(names.begin(), names.end(), task) != names.end(), "--tasks: unknown task \"" + task + "\"");
  }
  require(!o.text_files.empty(), "--text needs at least one file");
  for (const auto& name : o.policies) {
    const auto names = kvcache::policy_names();
    require(std::find(names.begin(), names.end(), name) != names.end(), "--policies: unknown policy \"" + name + "\"");
  }
  require_all<double>(o.budgets, is_ratio, "--budgets", "values must be in (0, 1]");
  require(o.threads >= 1, "--threads must be at least 1");
  if (o.runs("perplexity")) {
    require_all<int>(o.contexts, is_positive, "--context", "values must be positive");
    require(o.documents >= 1, "--documents must be at least 1");
    require(o.continuation_tokens >= 1, "--continuation-tokens must be at least 1");
    for (int context : o.contexts)
      require(o.continuation_tokens < context, "--continuation-tokens (" + std::to_string(o.continuation_tokens) +
                                                   ") must be shorter than every --context (got " +
                                                   std::to_string(context) + ")");
  }
  if (o.runs("needle")) {
    require_all<int>(o.needle_lengths, is_positive, "--needle-lengths", "values must be positive");
    require_all<double>(o.needle_depths, is_depth, "--needle-depths", "values must be in [0, 1]");
    require(o.needles >= 1 && o.needles <= static_cast<int>(builtin_needles().size()),
            "--needles must be in [1, " + std::to_string(builtin_needles().size()) + "]");
    require(o.needle_answer_tokens >= 1, "--needle-answer-tokens must be at least 1");
  }
  if (o.runs("agreement")) {
    require(o.agreement_prompts >= 1, "--agreement-prompts must be at least 1");
    require(o.agreement_prompt_length >= 1, "--agreement-prompt-length must be at least 1");
    require(o.generate_tokens >= 1, "--generate-tokens must be at least 1");
  }
  kvcache::validate(o.policy_config);
}

void validate_for_model(const EvalOptions& o, const model::ModelConfig& config) {
  // A sequence of n tokens whose last token is only a target (never fed back) uses n - 1 positions.
  if (o.runs("perplexity"))
    for (int context : o.contexts) require_fits(context - 1, config, "--context " + std::to_string(context));
  if (o.runs("needle"))
    for (int length : o.needle_lengths)
      require_fits(length - 1, config, "--needle-lengths " + std::to_string(length));
  if (o.runs("agreement"))
    require_fits(o.agreement_prompt_length + o.generate_tokens - 1, config,
                 "--agreement-prompt-length plus --generate-tokens");
}

std::vector<std::string> resolved_policies(const EvalOptions& o) {
  std::vector<std::string> out = {"full"};
  for (const auto& name : kvcache::policy_names()) {
    if (name == "full") continue;
    const bool wanted = o.policies.empty() || std::find(o.policies.begin(), o.policies.end(), name) != o.policies.end();
    if (wanted) out.push_back(name);
  }
  return out;
}

}  // namespace eval
