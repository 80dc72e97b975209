#include "parties/generate_command.hpp"

#include "test_paths.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

namespace {

bool kjv_present() { return std::filesystem::exists(model_test::kjv_model_dir() / "model.safetensors"); }

parties::GenerateOptions kjv_options() {
  parties::GenerateOptions o;
  o.model_dir = model_test::kjv_model_dir().string();
  o.prompt = "And God said,";
  o.max_new_tokens = 12;
  return o;
}

TEST(GenerateCommand, GreedyReportAndJsonFile) {
  if (!kjv_present()) GTEST_SKIP() << "models/kjv-gpt2 is absent";
  auto o = kjv_options();
  o.json_path = (model_test::temp_dir("generate") / "report.json").string();
  std::ostringstream out;
  const auto report = parties::run_generate(o, out);
  EXPECT_EQ(report["generated_tokens"].size(), 12u);
  EXPECT_NE(out.str().find("And God said,"), std::string::npos);
  EXPECT_NE(out.str().find("ms/token"), std::string::npos);
  std::ifstream file(o.json_path);
  ASSERT_TRUE(file);
  EXPECT_EQ(nlohmann::json::parse(file)["generated_text"], report["generated_text"]);
}

TEST(GenerateCommand, SeededSamplingIsReproducible) {
  if (!kjv_present()) GTEST_SKIP() << "models/kjv-gpt2 is absent";
  auto o = kjv_options();
  o.temperature = 0.8;
  o.top_k = 40;
  o.seed = 7;
  std::ostringstream sink;
  EXPECT_EQ(parties::run_generate(o, sink)["generated_tokens"], parties::run_generate(o, sink)["generated_tokens"]);
}

TEST(GenerateCommand, ParsesTheCommandLine) {
  if (!kjv_present()) GTEST_SKIP() << "models/kjv-gpt2 is absent";
  CLI::App app;
  parties::add_generate_command(app);
  const std::string model = model_test::kjv_model_dir().string();
  const std::string json = (model_test::temp_dir("generate_cli") / "r.json").string();
  std::vector<std::string> args = {"generate", "--model", model, "--prompt", "The LORD", "--max-new-tokens", "3",
                                   "--temperature", "0.5", "--top-k", "5", "--seed", "3", "--policy", "streamingllm",
                                   "--json", json};
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  app.parse(args);
  std::ifstream file(json);
  ASSERT_TRUE(file);
  const auto report = nlohmann::json::parse(file);
  EXPECT_EQ(report["generated_tokens"].size(), 3u);
  EXPECT_EQ(report["policy"], "streamingllm");
}

TEST(GenerateCommand, ReportsBadInput) {
  parties::GenerateOptions o;
  o.model_dir = (model_test::data_dir() / "tiny-gpt2").string();
  o.tokenizer_dir = model_test::gpt2_tokenizer_dir().string();  // 50257 tokens for a 64-token model
  o.prompt = "hi";
  std::ostringstream sink;
  EXPECT_THROW(parties::run_generate(o, sink), std::invalid_argument);
  CLI::App app;
  parties::add_generate_command(app);
  std::vector<std::string> args = {"x", "--prompt", "/nonexistent/model", "--model", "generate"};
  EXPECT_THROW(app.parse(args), CLI::ValidationError);
}

}  // namespace
