#include "eval/eval_report.hpp"

#include "eval/progress.hpp"

#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>

namespace eval {

namespace {

std::string number(double value, const char* format = "%.6g") {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, value);
  return buffer;
}

std::string optional_number(const std::optional<double>& value) { return value ? number(*value) : ""; }

nlohmann::json optional_json(const std::optional<double>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

nlohmann::json row_to_json(const ResultRow& r) {
  return {{"task", r.task},
          {"policy", r.policy},
          {"budget", r.budget},
          {"length", r.length},
          {"samples", r.samples},
          {"prompt_tokens", r.prompt_tokens},
          {"attended_tokens", r.attended_tokens},
          {"cached_tokens", r.cached_tokens},
          {"perplexity", optional_json(r.perplexity)},
          {"mean_nll", optional_json(r.mean_nll)},
          {"exact_match", optional_json(r.exact_match)},
          {"token_accuracy", optional_json(r.token_accuracy)},
          {"prefix_agreement", optional_json(r.prefix_agreement)},
          {"token_agreement", optional_json(r.token_agreement)},
          {"seconds", r.seconds}};
}

nlohmann::json case_to_json(const CaseResult& c, const model::Tokenizer* tokenizer) {
  nlohmann::json j = {{"task", c.task},
                      {"policy", c.policy},
                      {"budget", c.budget},
                      {"length", c.length},
                      {"sample", c.sample},
                      {"prompt_tokens", c.prompt_tokens},
                      {"attended_tokens", c.usage.attended_rows},
                      {"cached_tokens", c.usage.cached_rows},
                      {"decode_steps", c.usage.decode_steps},
                      {"seconds", c.seconds}};
  if (c.nll.tokens > 0) {
    j["nll_sum"] = c.nll.total;
    j["scored_tokens"] = c.nll.tokens;
  }
  if (!c.generated.empty()) {
    j["generated"] = c.generated;
    if (tokenizer) j["generated_text"] = tokenizer->decode(c.generated);
  }
  if (c.needle >= 0) {
    j["needle"] = c.needle;
    j["depth"] = c.depth;
    j["actual_depth"] = c.actual_depth;
    j["expected"] = c.expected;
    if (tokenizer) j["expected_text"] = tokenizer->decode(c.expected);
    j["exact"] = c.needle_score.exact;
    j["matched"] = c.needle_score.matched;
  }
  if (c.task == "agreement") {
    j["prefix_match"] = c.agreement.prefix_match;
    j["matching"] = c.agreement.matching;
    j["compared"] = c.agreement.compared;
  }
  return j;
}

nlohmann::json options_to_json(const EvalOptions& o) {
  std::vector<std::string> texts;
  for (const auto& t : o.text_files) texts.push_back(t.string());
  return {{"tasks", o.tasks},
          {"policies", resolved_policies(o)},
          {"budgets", o.budgets},
          {"contexts", o.contexts},
          {"documents", o.documents},
          {"continuation_tokens", o.continuation_tokens},
          {"needle_lengths", o.needle_lengths},
          {"needle_depths", o.needle_depths},
          {"needles", o.needles},
          {"needle_answer_tokens", o.needle_answer_tokens},
          {"agreement_prompts", o.agreement_prompts},
          {"agreement_prompt_length", o.agreement_prompt_length},
          {"generate_tokens", o.generate_tokens},
          {"seed", o.seed},
          {"text", texts}};
}

nlohmann::json setting_to_json(const PolicySetting& s) {
  const kvcache::PolicyConfig& c = s.config;
  nlohmann::json j = {{"policy", s.policy}, {"budget", s.budget}, {"budget_ratio", c.budget.ratio},
                      {"sinks", c.sinks}, {"recent_window", c.recent_window},
                      {"observation_window", c.observation_window}, {"page_size", c.page_size}};
  if (s.policy == "mpcache")
    j.update({{"static_ratio", c.mpcache_static_ratio}, {"dyn_ratio", c.mpcache_dyn_ratio},
              {"level1_ratio", c.mpcache_level1_ratio}, {"cluster_size1", c.mpcache_cluster_size1},
              {"cluster_size2", c.mpcache_cluster_size2}, {"alpha", c.mpcache_alpha}});
  if (s.policy == "mustafar") j.update({{"sparsity", c.mustafar_sparsity}, {"dense_window", c.mustafar_dense_window}});
  return j;
}

// Sample-weighted mean of `value` over the rows of one task/policy/budget (all lengths, or one).
struct Cell {
  double sum = 0.0;
  int samples = 0;
};

using CellKey = std::pair<std::string, double>;  // (policy, budget)

std::map<CellKey, Cell> cells(const EvalReport& report, const std::string& task, std::optional<int> length,
                              double (*value)(const ResultRow&)) {
  std::map<CellKey, Cell> out;
  for (const auto& row : report.rows) {
    if (row.task != task || (length && row.length != *length)) continue;
    Cell& cell = out[{row.policy, row.budget}];
    cell.sum += value(row) * row.samples;
    cell.samples += row.samples;
  }
  return out;
}

std::string percent(double fraction) { return number(100.0 * fraction, "%.0f%%"); }

// One Markdown table: a row per policy, the full-cache value, then a column per budget.
void write_table(const EvalReport& report, std::ostream& out, const std::map<CellKey, Cell>& values,
                 const char* format, bool as_percent) {
  const auto show = [&](const Cell& c) {
    const double v = c.sum / c.samples;
    return as_percent ? percent(v) : number(v, format);
  };
  const auto full = values.find({"full", 1.0});
  out << "| policy |";
  for (double b : report.options.budgets) out << " " << percent(b) << " |";
  out << "\n|---|";
  for (std::size_t i = 0; i < report.options.budgets.size(); ++i) out << "---:|";
  out << "\n";
  if (full != values.end()) {
    out << "| full cache |";
    for (std::size_t i = 0; i < report.options.budgets.size(); ++i) out << " " << show(full->second) << " |";
    out << "\n";
  }
  for (const auto& policy : resolved_policies(report.options)) {
    if (policy == "full") continue;
    out << "| " << policy << " |";
    for (double b : report.options.budgets) {
      const auto it = values.find({policy, b});
      out << " " << (it == values.end() ? std::string("-") : show(it->second)) << " |";
    }
    out << "\n";
  }
  out << "\n";
}

double perplexity_of(const ResultRow& r) { return r.perplexity.value_or(0.0); }
double exact_of(const ResultRow& r) { return r.exact_match.value_or(0.0); }
double accuracy_of(const ResultRow& r) { return r.token_accuracy.value_or(0.0); }
double nll_of(const ResultRow& r) { return r.mean_nll.value_or(0.0); }
double prefix_of(const ResultRow& r) { return r.prefix_agreement.value_or(0.0); }
double overall_of(const ResultRow& r) { return r.token_agreement.value_or(0.0); }
double attended_fraction_of(const ResultRow& r) { return r.prompt_tokens > 0 ? r.attended_tokens / r.prompt_tokens : 0.0; }

// Exact match and mean answer NLL of the full cache per length and depth, and of the control
// (the same prompts without the needle): whether the model retrieves at all.
void write_needle_baseline(const EvalReport& report, std::ostream& out) {
  struct Baseline {
    int exact = 0, cases = 0;
    NllSum nll;
  };
  std::map<std::pair<int, double>, Baseline> by_length_depth;
  std::map<int, Baseline> control;
  for (const auto& c : report.cases) {
    if (c.policy != "full" || (c.task != "needle" && c.task != "needle_control")) continue;
    Baseline& b = c.task == "needle" ? by_length_depth[{c.length, c.depth}] : control[c.length];
    b.exact += c.needle_score.exact ? 1 : 0;
    ++b.cases;
    b.nll += c.nll;
  }
  const auto show = [](const Baseline& b) {
    return b.cases ? percent(static_cast<double>(b.exact) / b.cases) + ", " + number(b.nll.mean(), "%.2f")
                   : std::string("-");
  };
  out << "Full-cache needle baseline (exact match, answer NLL) by length and depth; control = the same prompts "
         "without the needle:\n\n| length |";
  for (double d : report.options.needle_depths) out << " depth " << percent(d) << " |";
  out << " control |\n|---|";
  for (std::size_t i = 0; i <= report.options.needle_depths.size(); ++i) out << "---:|";
  out << "\n";
  for (int length : report.options.needle_lengths) {
    out << "| " << length << " |";
    for (double d : report.options.needle_depths) out << " " << show(by_length_depth[{length, d}]) << " |";
    out << " " << show(control[length]) << " |\n";
  }
  out << "\n";
}

void write_file(const std::filesystem::path& path, const std::string& content) {
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << content;
  if (!out) throw std::runtime_error("cannot write " + path.string());
}

}  // namespace

void write_csv(const std::vector<ResultRow>& rows, std::ostream& out) {
  out << "task,policy,budget,length,samples,prompt_tokens,attended_tokens,cached_tokens,perplexity,mean_nll,"
         "exact_match,token_accuracy,prefix_agreement,token_agreement,seconds\n";
  for (const auto& r : rows) {
    out << r.task << ',' << r.policy << ',' << number(r.budget) << ',' << r.length << ',' << r.samples << ','
        << number(r.prompt_tokens) << ',' << number(r.attended_tokens) << ',' << number(r.cached_tokens) << ','
        << optional_number(r.perplexity) << ',' << optional_number(r.mean_nll) << ','
        << optional_number(r.exact_match) << ',' << optional_number(r.token_accuracy) << ','
        << optional_number(r.prefix_agreement) << ',' << optional_number(r.token_agreement) << ','
        << number(r.seconds, "%.3f") << '\n';
  }
}

nlohmann::json report_to_json(const EvalReport& report, const model::Tokenizer* tokenizer) {
  nlohmann::json rows = nlohmann::json::array();
  for (const auto& r : report.rows) rows.push_back(row_to_json(r));
  nlohmann::json cases = nlohmann::json::array();
  for (const auto& c : report.cases) cases.push_back(case_to_json(c, tokenizer));
  nlohmann::json settings = nlohmann::json::array();
  for (const auto& s : policy_settings(report.options)) settings.push_back(setting_to_json(s));
  const model::ModelConfig& m = report.model;
  return {{"model",
           {{"dir", report.model_dir}, {"architecture", model::to_string(m.architecture)}, {"vocab_size", m.vocab_size},
            {"hidden_size", m.hidden_size}, {"layers", m.layers}, {"heads", m.heads}, {"kv_heads", m.kv_heads},
            {"max_positions", m.max_positions}}},
          {"text", {{"sources", report.text_sources}, {"tokens", report.text_tokens}}},
          {"options", options_to_json(report.options)},
          {"policy_settings", settings},
          {"seconds", report.seconds},
          {"threads", report.threads},
          {"results", rows},
          {"cases", cases}};
}

void write_markdown(const EvalReport& report, std::ostream& out) {
  const EvalOptions& o = report.options;
  out << "Model `" << report.model_dir << "`, " << report.text_tokens << " tokens of evaluation text; budgets are "
      << "fractions of the prompt length; " << format_duration(report.seconds) << " on " << report.threads
      << " thread(s).\n\n";
  if (o.runs("perplexity")) {
    for (int context : o.contexts) {
      out << "Perplexity, documents of " << context << " tokens (last " << o.continuation_tokens
          << " teacher-forced), " << o.documents << " documents:\n\n";
      write_table(report, out, cells(report, "perplexity", context, perplexity_of), "%.2f", false);
    }
    out << "Measured attended tokens per decode step as a fraction of the prompt (perplexity task):\n\n";
    write_table(report, out, cells(report, "perplexity", std::nullopt, attended_fraction_of), "", true);
    out << "(The cache grows with the continuation, so prefill-only policies attend more than their budget; "
           "MUSTAFAR attends every row but keeps only the budget fraction of each pruned row's entries.)\n\n";
  }
  if (o.runs("needle")) {
    out << "Needle retrieval, exact match of the next " << o.needle_answer_tokens
        << " tokens (= greedy generation reproduces them; all lengths and depths):\n\n";
    write_table(report, out, cells(report, "needle", std::nullopt, exact_of), "", true);
    out << "Needle retrieval, top-1 token accuracy (teacher-forced):\n\n";
    write_table(report, out, cells(report, "needle", std::nullopt, accuracy_of), "", true);
    out << "Needle retrieval, mean NLL of the answer tokens (nats, lower is better):\n\n";
    write_table(report, out, cells(report, "needle", std::nullopt, nll_of), "%.2f", false);
    write_needle_baseline(report, out);
  }
  if (o.runs("agreement")) {
    out << "Greedy agreement with the full cache over " << o.generate_tokens << " generated tokens, up to the first "
        << "divergence:\n\n";
    write_table(report, out, cells(report, "agreement", std::nullopt, prefix_of), "", true);
    out << "Greedy agreement, identical tokens overall:\n\n";
    write_table(report, out, cells(report, "agreement", std::nullopt, overall_of), "", true);
  }
}

void write_outputs(const EvalReport& report, const model::Tokenizer* tokenizer) {
  const EvalOptions& o = report.options;
  if (!o.csv_path.empty()) {
    std::ostringstream csv;
    write_csv(report.rows, csv);
    write_file(o.csv_path, csv.str());
  }
  if (!o.json_path.empty())
    write_file(o.json_path, report_to_json(report, tokenizer).dump(1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  if (!o.markdown_path.empty()) {
    std::ostringstream md;
    write_markdown(report, md);
    write_file(o.markdown_path, md.str());
  }
}

}  // namespace eval
