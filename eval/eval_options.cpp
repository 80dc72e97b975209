#include "eval/eval_options.hpp"

#include "eval/needle.hpp"
#include "kvcache/registry/policy_registry.hpp"

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
