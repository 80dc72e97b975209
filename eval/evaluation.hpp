// The evaluation behind `mpcache eval`: every cache policy at every budget, on a real model and
// real text, against the full cache. Three tasks:
//  - perplexity: documents of `context` tokens; the prompt (all but the last continuation tokens)
//    is prefilled with the policy, the continuation teacher-forced through decode();
//  - needle: retrieval of a needle sentence from haystacks of several lengths and depths, plus a
//    full-cache control without the needle (does the model know the answer without looking?).
//    The answer is teacher-forced: exact match (every step's argmax is the answer token, which is
//    exactly when greedy generation reproduces the answer), top-1 accuracy given the true prefix,
//    and the answer's mean NLL, which still shows partial retrieval when exact match is rare;
//  - agreement: greedy generations under each policy compared with the full-cache generation.
// Budgets are fractions of the prompt length (see budget_mapping.hpp for how each policy reads
// them). The first token after a prompt always comes from the prefill, which attends densely in
// every policy (eviction acts on the cache it leaves behind).
#pragma once

#include "eval/agreement.hpp"
#include "eval/eval_options.hpp"
#include "eval/metered_policy.hpp"
#include "eval/needle.hpp"
#include "eval/perplexity.hpp"
#include "eval/text_corpus.hpp"
#include "model/tokenizer.hpp"
#include "model/weights.hpp"

#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace eval {

// A policy at one budget (the full cache has budget 1).
struct PolicySetting {
  std::string policy;
  double budget = 1.0;
  kvcache::PolicyConfig config;
};

std::vector<PolicySetting> policy_settings(const EvalOptions& options);

// The outcome of one prompt under one setting.
struct CaseResult {
  std::string task;  // perplexity, needle, needle_control, agreement
  std::string policy;
  double budget = 1.0;
  int length = 0;        // document / prompt length in tokens
  int sample = 0;        // document, needle case or prompt index within its task and length
  int prompt_tokens = 0;
  NllSum nll;                 // perplexity: the continuation; needle: the answer
  std::vector<int> expected;  // needle: the answer tokens
  std::vector<int> generated; // needle: argmax at each teacher-forced step; agreement: greedy tokens
  int needle = -1;            // needle index
  double depth = -1.0, actual_depth = -1.0;
  NeedleScore needle_score;
  AgreementScore agreement;  // filled when the results are aggregated
  CacheUsage usage;
  double seconds = 0.0;
};

// One row per task / policy / budget / length.
struct ResultRow {
  std::string task;
  std::string policy;
  double budget = 1.0;
  int length = 0;
  int samples = 0;
  double prompt_tokens = 0.0;    // mean prompt length
  double attended_tokens = 0.0;  // mean rows attended per kv head, layer and decode step
  double cached_tokens = 0.0;    // mean rows cached at those steps
  std::optional<double> perplexity;
  std::optional<double> mean_nll;  // perplexity: the continuation; needle: the answer tokens
  std::optional<double> exact_match, token_accuracy;
  std::optional<double> prefix_agreement, token_agreement;
  double seconds = 0.0;          // compute time summed over the samples
};

struct EvalReport {
  std::string model_dir;
  model::ModelConfig model;
  std::vector<std::string> text_sources;
  int text_tokens = 0;
  EvalOptions options;
  std::vector<CaseResult> cases;
  std::vector<ResultRow> rows;
  double seconds = 0.0;  // wall-clock time of the whole evaluation
  int threads = 1;
};

struct EvalInputs {
  const model::TransformerWeights& weights;
  const model::Tokenizer& tokenizer;
  const TextCorpus& corpus;
  std::string model_dir;  // for the report
};

// Runs every task of `options`; progress goes to `progress` (null: silent). Throws
// std::invalid_argument for options that do not fit the model or the text.
EvalReport run_evaluation(const EvalOptions& options, const EvalInputs& inputs, std::ostream* progress);

// Groups the cases into rows (agreement is scored against the full-cache case of the same prompt).
std::vector<ResultRow> aggregate(std::vector<CaseResult>& cases);

}  // namespace eval
