#include "eval/eval_report.hpp"
#include "tiny_model.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace {

eval::ResultRow row(const std::string& task, const std::string& policy, double budget) {
  eval::ResultRow r;
  r.task = task;
  r.policy = policy;
  r.budget = budget;
  r.length = 64;
  r.samples = 2;
  r.prompt_tokens = 48;
  r.attended_tokens = policy == "full" ? 56 : 12;
  r.cached_tokens = policy == "full" ? 56 : 12;
  r.seconds = 0.5;
  return r;
}

eval::EvalReport sample_report() {
  eval::EvalReport report;
  report.model_dir = "models/tiny";
  report.model = eval_test::tiny_config();
  report.text_sources = {"heldout.txt"};
  report.text_tokens = 1000;
  report.options.policies = {"h2o"};
  report.options.budgets = {0.25};
  report.options.contexts = {64};
  report.options.needle_lengths = {64};
  report.options.needle_depths = {0.5};
  report.seconds = 75;
  eval::ResultRow full = row("perplexity", "full", 1.0);
  full.perplexity = 10.0;
  full.mean_nll = std::log(10.0);
  eval::ResultRow h2o = row("perplexity", "h2o", 0.25);
  h2o.perplexity = 12.5;
  h2o.mean_nll = std::log(12.5);
  eval::ResultRow needle = row("needle", "h2o", 0.25);
  needle.exact_match = 0.5;
  needle.token_accuracy = 0.75;
  eval::ResultRow agreement = row("agreement", "h2o", 0.25);
  agreement.prefix_agreement = 0.25;
  agreement.token_agreement = 0.5;
  report.rows = {full, h2o, needle, agreement};
  eval::CaseResult c;
  c.task = "needle";
  c.policy = "full";
  c.length = 64;
  c.needle = 0;
  c.depth = 0.5;
  c.actual_depth = 0.48;
  c.expected = {1, 2};
  c.generated = {1, 3};
  c.needle_score = eval::score_needle(c.generated, c.expected);
  c.nll = {3.0, 2};
  report.cases = {c};
  return report;
}

TEST(EvalReportCsv, OneLinePerRowWithEmptyCellsForOtherTasks) {
  std::ostringstream out;
  eval::write_csv(sample_report().rows, out);
  std::istringstream lines(out.str());
  std::string header, first, second, third, fourth, extra;
  std::getline(lines, header);
  std::getline(lines, first);
  std::getline(lines, second);
  std::getline(lines, third);
  std::getline(lines, fourth);
  EXPECT_FALSE(std::getline(lines, extra));
  EXPECT_EQ(header,
            "task,policy,budget,length,samples,prompt_tokens,attended_tokens,cached_tokens,perplexity,mean_nll,"
            "exact_match,token_accuracy,prefix_agreement,token_agreement,seconds");
  EXPECT_EQ(first, "perplexity,full,1,64,2,48,56,56,10,2.30259,,,,,0.500");
  EXPECT_EQ(third, "needle,h2o,0.25,64,2,48,12,12,,,0.5,0.75,,,0.500");
  EXPECT_EQ(fourth, "agreement,h2o,0.25,64,2,48,12,12,,,,,0.25,0.5,0.500");
}

TEST(EvalReportJson, HoldsRowsCasesSettingsAndDecodedText) {
  const model::Tokenizer tokenizer = eval_test::kjv_tokenizer();
  const nlohmann::json j = eval::report_to_json(sample_report(), &tokenizer);
  EXPECT_EQ(j["model"]["layers"], 4);
  EXPECT_EQ(j["text"]["tokens"], 1000);
  ASSERT_EQ(j["results"].size(), 4u);
  EXPECT_DOUBLE_EQ(j["results"][1]["perplexity"].get<double>(), 12.5);
  EXPECT_TRUE(j["results"][1]["exact_match"].is_null());
  EXPECT_EQ(j["cases"][0]["matched"], 1);
  EXPECT_EQ(j["cases"][0]["expected_text"], tokenizer.decode(std::vector<int>{1, 2}));
  ASSERT_EQ(j["policy_settings"].size(), 2u);  // full + h2o at one budget
  EXPECT_EQ(j["policy_settings"][1]["policy"], "h2o");
  EXPECT_DOUBLE_EQ(j["policy_settings"][1]["budget_ratio"].get<double>(), 0.25);
}

TEST(EvalReportMarkdown, TablesHaveAColumnPerBudget) {
  std::ostringstream out;
  eval::write_markdown(sample_report(), out);
  const std::string md = out.str();
  EXPECT_NE(md.find("| policy | 25% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| full cache | 10.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| h2o | 12.50 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| h2o | 50% |"), std::string::npos) << md;  // needle exact match
  EXPECT_NE(md.find("| 64 | 0%, 1.50 | - |"), std::string::npos) << md;  // full-cache baseline: one miss, no control
  EXPECT_NE(md.find("1m15s"), std::string::npos) << md;
}

TEST(EvalReportFiles, WritesEveryRequestedOutput) {
  const auto dir = eval_test::temp_dir("report_files");
  eval::EvalReport report = sample_report();
  report.options.csv_path = dir / "sub" / "eval.csv";
  report.options.json_path = dir / "eval.json";
  report.options.markdown_path = dir / "eval.md";
  eval::write_outputs(report, nullptr);
  EXPECT_TRUE(std::filesystem::exists(report.options.csv_path));
  EXPECT_TRUE(std::filesystem::exists(report.options.markdown_path));
  std::ifstream json(report.options.json_path);
  EXPECT_EQ(nlohmann::json::parse(json)["results"].size(), 4u);
  report.options.csv_path = dir / "eval.json" / "not_a_dir.csv";  // a file where a folder should be
  EXPECT_ANY_THROW(eval::write_outputs(report, nullptr));
}

}  // namespace
