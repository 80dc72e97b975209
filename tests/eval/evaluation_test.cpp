#include "eval/eval_report.hpp"
#include "eval/evaluation.hpp"
#include "model/checkpoint_writer.hpp"
#include "tiny_model.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace {

// One small run of every task on a random model saved and loaded as a checkpoint folder.
class EvaluationTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const auto dir = eval_test::temp_dir("checkpoint");
    model::save_checkpoint(dir, eval_test::tiny_weights(4096), model::DType::F32);
    weights_ = new model::TransformerWeights(model::load_weights(dir));
    tokenizer_ = new model::Tokenizer(eval_test::kjv_tokenizer());
    corpus_ = new eval::TextCorpus(eval::corpus_from_text(eval_test::sample_text(30), *tokenizer_, "sample"));
  }
  static void TearDownTestSuite() {
    delete corpus_;
    delete tokenizer_;
    delete weights_;
  }

  static eval::EvalOptions small_options() {
    eval::EvalOptions o;
    o.text_files = {"sample"};
    o.policies = {"h2o", "snapkv", "mpcache"};
    o.budgets = {0.2, 0.5};
    o.contexts = {64, 96};
    o.documents = 2;
    o.continuation_tokens = 16;
    o.needle_lengths = {48, 80};
    o.needle_depths = {0.2, 0.8};
    o.needles = 2;
    o.needle_answer_tokens = 4;
    o.agreement_prompts = 2;
    o.agreement_prompt_length = 40;
    o.generate_tokens = 8;
    return o;
  }

  eval::EvalReport run(const eval::EvalOptions& o, std::ostream* progress = nullptr) {
    return eval::run_evaluation(o, eval::EvalInputs{*weights_, *tokenizer_, *corpus_, "tiny"}, progress);
  }

  static model::TransformerWeights* weights_;
  static model::Tokenizer* tokenizer_;
  static eval::TextCorpus* corpus_;
};

model::TransformerWeights* EvaluationTest::weights_ = nullptr;
model::Tokenizer* EvaluationTest::tokenizer_ = nullptr;
eval::TextCorpus* EvaluationTest::corpus_ = nullptr;

int count_rows(const eval::EvalReport& r, const std::string& task) {
  return static_cast<int>(std::count_if(r.rows.begin(), r.rows.end(), [&](const auto& row) { return row.task == task; }));
}

TEST_F(EvaluationTest, RunsEveryTaskForEveryPolicyBudgetAndLength) {
  std::ostringstream progress;
  const eval::EvalReport report = run(small_options(), &progress);
  // 7 settings (full + 3 policies x 2 budgets).
  EXPECT_EQ(count_rows(report, "perplexity"), 7 * 2);
  EXPECT_EQ(count_rows(report, "needle"), 7 * 2);
  EXPECT_EQ(count_rows(report, "needle_control"), 2);  // full cache only
  EXPECT_EQ(count_rows(report, "agreement"), 7);
  for (const auto& row : report.rows) {
    SCOPED_TRACE(row.task + " " + row.policy);
    if (row.task == "perplexity") {
      EXPECT_EQ(row.samples, 2);
      EXPECT_GT(*row.perplexity, 1.0);
      EXPECT_EQ(row.prompt_tokens, row.length - 16);
    }
    if (row.task == "needle") {
      EXPECT_EQ(row.samples, 4);  // 2 needles x 2 depths
      EXPECT_EQ(row.prompt_tokens, row.length - 4);
    }
    if (row.task == "agreement" && row.policy == "full") {
      EXPECT_DOUBLE_EQ(*row.prefix_agreement, 1.0);
      EXPECT_DOUBLE_EQ(*row.token_agreement, 1.0);
    }
    if (row.policy == "h2o" && row.task == "perplexity") {
      // The cache stays at the budget; select() sees the newest row before H2O evicts again.
      EXPECT_LE(row.cached_tokens, std::lround(row.budget * row.prompt_tokens) + 1);
    }
  }
  EXPECT_NE(progress.str().find("100.0%"), std::string::npos) << progress.str();
  EXPECT_NE(progress.str().find("ETA"), std::string::npos);
}

TEST_F(EvaluationTest, ResultsDoNotDependOnTheThreadCount) {
  eval::EvalOptions o = small_options();
  o.tasks = {"perplexity", "agreement"};
  const eval::EvalReport one = run(o);
  o.threads = 2;
  const eval::EvalReport two = run(o);
  ASSERT_EQ(one.rows.size(), two.rows.size());
  for (std::size_t i = 0; i < one.rows.size(); ++i) {
    EXPECT_EQ(one.rows[i].perplexity, two.rows[i].perplexity);
    EXPECT_EQ(one.rows[i].token_agreement, two.rows[i].token_agreement);
  }
}

TEST_F(EvaluationTest, RejectsSettingsTheModelOrTextCannotServe) {
  eval::EvalOptions o = small_options();
  o.contexts = {256};  // the tiny model has 128 positions
  EXPECT_THROW(run(o), std::invalid_argument);
  o = small_options();
  o.documents = 1000;  // more documents than the text holds
  EXPECT_THROW(run(o), std::invalid_argument);
}

}  // namespace
