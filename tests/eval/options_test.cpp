#include "parties/eval_flags.hpp"
#include "tiny_model.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

namespace {

class EvalFlagsTest : public ::testing::Test {
 protected:
  eval::EvalOptions options;
  CLI::App app{"eval"};
  std::string model_dir = eval_test::kjv_tokenizer_dir().string();
  std::string text_file = (eval_test::kjv_tokenizer_dir() / "vocab.json").string();

  void SetUp() override { parties::add_eval_flags(app, options); }

  void parse(std::vector<std::string> extra) {
    std::vector<std::string> args = {"--model", model_dir, "--text", text_file};
    args.insert(args.end(), extra.begin(), extra.end());
    std::reverse(args.begin(), args.end());  // CLI11 takes the arguments in reverse order
    app.parse(args);
  }
};

TEST_F(EvalFlagsTest, ParsesListsAndPolicyHyperparameters) {
  parse({"--policies", "h2o,mpcache", "--budgets", "0.1,0.3", "--context", "256", "512", "--needle-depths", "0,1",
         "--mpcache-alpha", "0.4", "--threads", "2", "--seed", "9"});
  EXPECT_EQ(options.policies, (std::vector<std::string>{"h2o", "mpcache"}));
  EXPECT_EQ(options.budgets, (std::vector<double>{0.1, 0.3}));
  EXPECT_EQ(options.contexts, (std::vector<int>{256, 512}));
  EXPECT_EQ(options.needle_depths, (std::vector<double>{0.0, 1.0}));
  EXPECT_DOUBLE_EQ(options.policy_config.mpcache_alpha, 0.4);
  EXPECT_EQ(options.threads, 2);
  EXPECT_EQ(options.seed, 9u);
  EXPECT_NO_THROW(eval::validate_options(options));
  EXPECT_EQ(eval::resolved_policies(options), (std::vector<std::string>{"full", "h2o", "mpcache"}));
}

TEST_F(EvalFlagsTest, DefaultsRunEveryPolicyWithTheFullCacheFirst) {
  parse({});
  const auto policies = eval::resolved_policies(options);
  EXPECT_EQ(policies.front(), "full");
  EXPECT_EQ(policies.size(), 11u);
  EXPECT_NO_THROW(eval::validate_options(options));
}

TEST_F(EvalFlagsTest, RejectsUnknownNamesAndOutOfRangeValues) {
  EXPECT_THROW(parse({"--policies", "lru"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--tasks", "translation"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--budgets", "1.5"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--needle-depths", "-0.1"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--documents", "0"}), CLI::ValidationError);
  EXPECT_THROW(parse({"--needles", "99"}), CLI::ValidationError);
}

TEST_F(EvalFlagsTest, RequiresModelAndText) {
  EXPECT_THROW(app.parse(std::vector<std::string>{}), CLI::RequiredError);
}

TEST(EvalOptionsValidation, ReportsTheOffendingFlag) {
  eval::EvalOptions o;
  o.text_files = {"heldout.txt"};
  EXPECT_NO_THROW(eval::validate_options(o));
  auto expect_error = [](const eval::EvalOptions& bad, const std::string& flag) {
    try {
      eval::validate_options(bad);
      ADD_FAILURE() << "no error for " << flag;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(flag), std::string::npos) << e.what();
    }
  };
  eval::EvalOptions bad = o;
  bad.budgets = {0.0};
  expect_error(bad, "--budgets");
  bad = o;
  bad.continuation_tokens = 512;
  expect_error(bad, "--continuation-tokens");
  bad = o;
  bad.needle_depths = {};
  expect_error(bad, "--needle-depths");
  bad = o;
  bad.policies = {"lru"};
  expect_error(bad, "--policies");
  bad = o;
  bad.generate_tokens = 0;
  expect_error(bad, "--generate-tokens");
  bad = o;
  bad.policy_config.mpcache_alpha = 2.0;
  expect_error(bad, "mpcache_alpha");
  // A task that does not run does not need valid settings.
  bad = o;
  bad.tasks = {"needle"};
  bad.continuation_tokens = 4096;
  EXPECT_NO_THROW(eval::validate_options(bad));
}

TEST(EvalOptionsValidation, LengthsMustFitTheModelContext) {
  eval::EvalOptions o;
  o.text_files = {"heldout.txt"};
  model::ModelConfig config = eval_test::tiny_config();
  config.max_positions = 1024;
  EXPECT_NO_THROW(eval::validate_for_model(o, config));  // 1024-token documents use 1023 positions
  config.max_positions = 1000;
  EXPECT_THROW(eval::validate_for_model(o, config), std::invalid_argument);
  o.tasks = {"agreement"};
  EXPECT_NO_THROW(eval::validate_for_model(o, config));
  o.agreement_prompt_length = 990;
  EXPECT_THROW(eval::validate_for_model(o, config), std::invalid_argument);
}

}  // namespace
