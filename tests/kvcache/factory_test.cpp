#include "kvcache/registry/policy_registry.hpp"
#include "parties/policy_flags.hpp"

#include <CLI/CLI.hpp>
#include <gtest/gtest.h>

namespace kvcache {
namespace {

TEST(PolicyFactory, BuildsEveryNamedPolicy) {
  const std::vector<std::string> names = policy_names();
  EXPECT_EQ(names.size(), 11u);
  for (const auto& name : names) EXPECT_EQ(make_policy(name, PolicyConfig{})->name(), name);
}

void expect_error(const std::string& name, const PolicyConfig& config, const std::string& fragment) {
  try {
    make_policy(name, config);
    FAIL() << "expected std::invalid_argument mentioning " << fragment;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(PolicyFactory, RejectsUnknownNameAndBadValues) {
  expect_error("lru", PolicyConfig{}, "unknown cache policy \"lru\"");
  PolicyConfig c;
  c.budget.ratio = 0.0;
  expect_error("h2o", c, "budget ratio");
  c = {};
  c.budget.ratio = 1.5;
  expect_error("h2o", c, "budget ratio");
  c = {};
  c.budget.tokens = -3;
  expect_error("h2o", c, "budget tokens");
  c = {};
  c.sinks = -1;
  expect_error("streamingllm", c, "sinks");
  c = {};
  c.pooling_kernel = 4;
  expect_error("snapkv", c, "pooling_kernel");
  c = {};
  c.pooling = "median";
  expect_error("snapkv", c, "pooling");
  c = {};
  c.mustafar_sparsity = 1.0;
  expect_error("mustafar", c, "mustafar_sparsity");
  c = {};
  c.mpcache_cluster_size1 = 24;
  c.mpcache_cluster_size2 = 16;
  expect_error("mpcache", c, "multiple of mpcache_cluster_size2");
  c = {};
  c.mpcache_dyn_ratio = 0.0;
  expect_error("mpcache", c, "mpcache_dyn_ratio");
  c = {};
  c.rpc_period = 0;
  expect_error("rpc", c, "rpc_period");
}

TEST(PolicyFactory, FlagsBindEveryField) {
  PolicyConfig config;
  CLI::App app;
  parties::add_policy_flags(app, config);
  std::vector<std::string> args = {"--kv-budget-tokens", "64", "--mpcache-alpha", "0.7", "--kv-window-outside-budget",
                                   "--kv-pooling", "max", "--quest-page-size", "8", "--mpcache-share-interval", "3"};
  std::reverse(args.begin(), args.end());  // CLI11 parses a reversed vector
  app.parse(args);
  EXPECT_EQ(config.budget.tokens, 64);
  EXPECT_DOUBLE_EQ(config.mpcache_alpha, 0.7);
  EXPECT_TRUE(config.window_outside_budget);
  EXPECT_EQ(config.pooling, "max");
  EXPECT_EQ(config.page_size, 8);
  EXPECT_EQ(config.mpcache_share_interval, 3);
  EXPECT_DOUBLE_EQ(config.mpcache_dyn_ratio, 0.2);  // untouched default
}

}  // namespace
}  // namespace kvcache
