#include "eval/evaluation.hpp"

#include "eval/budget_mapping.hpp"
#include "eval/progress.hpp"
#include "kvcache/registry/policy_registry.hpp"
#include "model/generation.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <exception>
#include <map>
#include <mutex>
#include <random>
#include <stdexcept>
#include <thread>

namespace eval {

namespace {

// One prompt under one policy setting.
struct Job {
  std::string task;
  int setting = 0;
  int length = 0;
  int sample = 0;
  int samples = 0;                          // in its task and length, for the progress label
  const std::vector<int>* tokens = nullptr;  // the document (perplexity) or the prompt
  int prompt_length = 0;                    // perplexity: tokens prefilled
  const NeedleCase* needle_case = nullptr;
  int generate = 0;                         // tokens to generate (needle, agreement)
};

// A prefill token is batched (cheap); a decode step is one full pass over the weights and the
// policy's per-step work. The weight only shapes the ETA.
constexpr double kDecodeStepCost = 4.0;

double job_cost(const Job& job) {
  const int decode_steps = job.task == "perplexity" ? static_cast<int>(job.tokens->size()) - job.prompt_length - 1
                                                    : job.generate - 1;
  const int prompt = job.task == "perplexity" ? job.prompt_length : static_cast<int>(job.tokens->size());
  return prompt + kDecodeStepCost * std::max(0, decode_steps);
}

std::string budget_label(double budget) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", budget);
  return buffer;
}

std::string job_label(const Job& job, const PolicySetting& setting) {
  std::string label = job.task + " len " + std::to_string(job.length) + " | " + setting.policy;
  if (setting.policy != "full") label += " @ " + budget_label(setting.budget);
  return label + " | sample " + std::to_string(job.sample + 1) + "/" + std::to_string(job.samples);
}

CaseResult run_job(const Job& job, const PolicySetting& setting, const model::TransformerWeights& weights) {
  const auto start = std::chrono::steady_clock::now();
  model::Transformer engine(weights);
  std::unique_ptr<kvcache::CachePolicy> policy = kvcache::make_policy(setting.policy, setting.config);
  MeteredPolicy metered(*policy);
  CaseResult result;
  result.task = job.task;
  result.policy = setting.policy;
  result.budget = setting.budget;
  result.length = job.length;
  result.sample = job.sample;
  if (job.task == "perplexity") {
    result.prompt_tokens = job.prompt_length;
    result.nll = continuation_nll(engine, *job.tokens, job.prompt_length, &metered);
  } else if (job.needle_case) {
    // The answer is teacher-forced: one pass gives its likelihood and the argmax at every step,
    // and all argmaxes match exactly when greedy generation would reproduce the answer.
    const NeedleCase& c = *job.needle_case;
    result.prompt_tokens = static_cast<int>(c.prompt.size());
    std::vector<int> sequence = c.prompt;
    sequence.insert(sequence.end(), c.expected.begin(), c.expected.end());
    result.nll = continuation_nll(engine, sequence, result.prompt_tokens, &metered, &result.generated);
  } else {
    result.prompt_tokens = static_cast<int>(job.tokens->size());
    model::GenerationOptions generation;
    generation.max_new_tokens = job.generate;  // greedy: temperature 0
    result.generated = model::generate(engine, *job.tokens, generation, &metered).tokens;
  }
  if (job.needle_case) {
    const NeedleCase& c = *job.needle_case;
    result.needle = c.needle;
    result.depth = c.depth;
    result.actual_depth = c.actual_depth;
    result.expected = c.expected;
    result.needle_score = score_needle(result.generated, c.expected);
  }
  result.usage = metered.usage();
  result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return result;
}

// Prompts of every task, owned here so that jobs can point at them.
struct Workload {
  std::vector<std::pair<int, std::vector<std::vector<int>>>> documents;  // (context, documents)
  std::vector<std::pair<int, std::vector<NeedleCase>>> needle_cases;     // (length, cases)
  std::vector<std::pair<int, std::vector<NeedleCase>>> control_cases;    // (length, cases)
  std::vector<std::vector<int>> agreement_prompts;
};

Workload build_workload(const EvalOptions& o, const EvalInputs& in) {
  Workload w;
  if (o.runs("perplexity"))
    for (int context : o.contexts) w.documents.emplace_back(context, spread_windows(in.corpus.tokens, context, o.documents));
  if (o.runs("needle")) {
    std::mt19937_64 rng(o.seed);
    for (int length : o.needle_lengths) {
      std::vector<NeedleCase> cases, controls;
      for (int k = 0; k < o.needles; ++k) {
        const NeedleTokens needle = tokenize_needle(in.tokenizer, builtin_needles()[k]);
        // One haystack per needle and length: the depths then differ only in where the needle sits.
        const std::size_t first_line = static_cast<std::size_t>(rng() % in.corpus.lines.size());
        for (double depth : o.needle_depths)
          cases.push_back(make_needle_case(in.corpus.lines, first_line, needle, k, length, depth,
                                           o.needle_answer_tokens, true));
        controls.push_back(make_needle_case(in.corpus.lines, first_line, needle, k, length, 0.5,
                                            o.needle_answer_tokens, false));
      }
      w.needle_cases.emplace_back(length, std::move(cases));
      w.control_cases.emplace_back(length, std::move(controls));
    }
  }
  if (o.runs("agreement"))
    w.agreement_prompts = random_windows(in.corpus.tokens, o.agreement_prompt_length, o.agreement_prompts, o.seed + 1);
  return w;
}

void add_needle_jobs(const std::string& task, const std::vector<std::pair<int, std::vector<NeedleCase>>>& groups,
                     int settings, std::vector<Job>& jobs) {
  for (const auto& [length, cases] : groups)
    for (int s = 0; s < settings; ++s)
      for (std::size_t i = 0; i < cases.size(); ++i) {
        Job job{task, s, length, static_cast<int>(i), static_cast<int>(cases.size()), &cases[i].prompt};
        job.needle_case = &cases[i];
        job.generate = static_cast<int>(cases[i].expected.size());
        jobs.push_back(job);
      }
}

std::vector<Job> build_jobs(const EvalOptions& o, const Workload& w, int settings) {
  std::vector<Job> jobs;
  for (const auto& [context, documents] : w.documents)
    for (int s = 0; s < settings; ++s)
      for (std::size_t d = 0; d < documents.size(); ++d) {
        Job job{"perplexity", s, context, static_cast<int>(d), static_cast<int>(documents.size()), &documents[d]};
        job.prompt_length = context - o.continuation_tokens;
        jobs.push_back(job);
      }
  add_needle_jobs("needle", w.needle_cases, settings, jobs);
  add_needle_jobs("needle_control", w.control_cases, 1, jobs);  // the full cache only (setting 0)
  for (int s = 0; s < settings; ++s)
    for (std::size_t p = 0; p < w.agreement_prompts.size(); ++p) {
      Job job{"agreement", s, o.agreement_prompt_length, static_cast<int>(p),
              static_cast<int>(w.agreement_prompts.size()), &w.agreement_prompts[p]};
      job.generate = o.generate_tokens;
      jobs.push_back(job);
    }
  return jobs;
}

// Runs the jobs on `threads` workers; results keep the job order whatever the thread count.
std::vector<CaseResult> run_jobs(const std::vector<Job>& jobs, const std::vector<PolicySetting>& settings,
                                 const model::TransformerWeights& weights, int threads, Progress& progress) {
  std::vector<CaseResult> results(jobs.size());
  std::atomic<std::size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex error_mutex;
  auto worker = [&] {
    for (std::size_t i = next++; i < jobs.size() && !failed; i = next++) {
      try {
        results[i] = run_job(jobs[i], settings[jobs[i].setting], weights);
        progress.job_done(job_label(jobs[i], settings[jobs[i].setting]), job_cost(jobs[i]));
      } catch (...) {
        std::lock_guard lock(error_mutex);
        if (!error) error = std::current_exception();
        failed = true;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(worker);
  worker();
  for (auto& thread : pool) thread.join();
  if (error) std::rethrow_exception(error);
  return results;
}

}  // namespace

std::vector<PolicySetting> policy_settings(const EvalOptions& o) {
  std::vector<PolicySetting> settings;
  for (const auto& name : resolved_policies(o)) {
    if (name == "full") {
      settings.push_back({name, 1.0, o.policy_config});
      continue;
    }
    for (double budget : o.budgets) settings.push_back({name, budget, config_for_budget(name, o.policy_config, budget)});
  }
  return settings;
}

std::vector<ResultRow> aggregate(std::vector<CaseResult>& cases) {
  std::map<std::pair<int, int>, const CaseResult*> reference;  // (length, prompt) -> full-cache case
  for (const auto& c : cases)
    if (c.task == "agreement" && c.policy == "full") reference[{c.length, c.sample}] = &c;
  std::vector<ResultRow> rows;
  std::map<std::tuple<std::string, std::string, double, int>, std::size_t> row_of;
  struct Sums {
    NllSum nll;
    int exact = 0, matched = 0, expected = 0;
    double prefix = 0.0, overall = 0.0;
  };
  std::vector<Sums> sums;
  for (auto& c : cases) {
    const auto key = std::make_tuple(c.task, c.policy, c.budget, c.length);
    auto [it, inserted] = row_of.emplace(key, rows.size());
    if (inserted) {
      ResultRow row;
      row.task = c.task;
      row.policy = c.policy;
      row.budget = c.budget;
      row.length = c.length;
      rows.push_back(row);
      sums.emplace_back();
    }
    ResultRow& row = rows[it->second];
    Sums& sum = sums[it->second];
    ++row.samples;
    row.prompt_tokens += c.prompt_tokens;
    row.attended_tokens += c.usage.attended_rows;
    row.cached_tokens += c.usage.cached_rows;
    row.seconds += c.seconds;
    if (c.task == "perplexity") sum.nll += c.nll;
    if (c.task == "needle" || c.task == "needle_control") {
      sum.nll += c.nll;
      sum.exact += c.needle_score.exact ? 1 : 0;
      sum.matched += c.needle_score.matched;
      sum.expected += c.needle_score.expected;
    }
    if (c.task == "agreement") {
      const auto ref = reference.find({c.length, c.sample});
      if (ref == reference.end()) throw std::logic_error("agreement case without a full-cache reference");
      c.agreement = compare_generations(ref->second->generated, c.generated);
      sum.prefix += c.agreement.prefix_fraction();
      sum.overall += c.agreement.overall_fraction();
    }
  }
  for (std::size_t i = 0; i < rows.size(); ++i) {
    ResultRow& row = rows[i];
    const Sums& sum = sums[i];
    row.prompt_tokens /= row.samples;
    row.attended_tokens /= row.samples;
    row.cached_tokens /= row.samples;
    if (row.task == "perplexity") {
      row.mean_nll = sum.nll.mean();
      row.perplexity = sum.nll.perplexity();
    }
    if (row.task == "needle" || row.task == "needle_control") {
      row.mean_nll = sum.nll.mean();
      row.exact_match = static_cast<double>(sum.exact) / row.samples;
      row.token_accuracy = sum.expected ? static_cast<double>(sum.matched) / sum.expected : 0.0;
    }
    if (row.task == "agreement") {
      row.prefix_agreement = sum.prefix / row.samples;
      row.token_agreement = sum.overall / row.samples;
    }
  }
  return rows;
}

EvalReport run_evaluation(const EvalOptions& options, const EvalInputs& inputs, std::ostream* progress_out) {
  validate_options(options);
  const model::ModelConfig& config = inputs.weights.config;
  validate_for_model(options, config);
  if (inputs.tokenizer.vocab_size() > config.vocab_size)
    throw std::invalid_argument("the tokenizer has " + std::to_string(inputs.tokenizer.vocab_size()) +
                                " tokens, the model's vocabulary only " + std::to_string(config.vocab_size));
  const auto start = std::chrono::steady_clock::now();
  const std::vector<PolicySetting> settings = policy_settings(options);
  const Workload workload = build_workload(options, inputs);
  const std::vector<Job> jobs = build_jobs(options, workload, static_cast<int>(settings.size()));
  double total_cost = 0.0;
  for (const auto& job : jobs) total_cost += job_cost(job);
  if (progress_out)
    *progress_out << "[eval] " << jobs.size() << " runs: " << settings.size() << " policy settings, "
                  << options.threads << " thread(s)" << std::endl;
  Progress progress(progress_out, total_cost);

  EvalReport report;
  report.model_dir = inputs.model_dir;
  report.model = config;
  report.text_sources = inputs.corpus.sources;
  report.text_tokens = inputs.corpus.size();
  report.options = options;
  report.threads = options.threads;
  report.cases = run_jobs(jobs, settings, inputs.weights, options.threads, progress);
  report.rows = aggregate(report.cases);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace eval
