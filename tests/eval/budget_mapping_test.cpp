#include "eval/budget_mapping.hpp"

#include <gtest/gtest.h>

namespace {

TEST(BudgetMapping, TokenBudgetPoliciesReadTheRatio) {
  kvcache::PolicyConfig base;
  base.budget.tokens = 100;  // an absolute budget from the flags must not override the sweep
  for (const std::string policy : {"streamingllm", "h2o", "tova", "snapkv", "pyramidkv", "quest", "keydiff", "rpc"}) {
    SCOPED_TRACE(policy);
    const kvcache::PolicyConfig c = eval::config_for_budget(policy, base, 0.1);
    EXPECT_DOUBLE_EQ(c.budget.ratio, 0.1);
    EXPECT_EQ(c.budget.tokens, 0);
  }
}

TEST(BudgetMapping, MpcacheSplitsTheAttendedBudgetIntoStaticAndDynamicRatios) {
  kvcache::PolicyConfig base;  // dyn ratio 0.2, level-1 ratio 0.5
  const kvcache::PolicyConfig five = eval::config_for_budget("mpcache", base, 0.05);
  EXPECT_DOUBLE_EQ(five.mpcache_static_ratio, 0.25);
  EXPECT_DOUBLE_EQ(five.mpcache_dyn_ratio, 0.2);
  const kvcache::PolicyConfig twenty = eval::config_for_budget("mpcache", base, 0.2);
  EXPECT_DOUBLE_EQ(twenty.mpcache_static_ratio, 1.0);
  EXPECT_DOUBLE_EQ(twenty.mpcache_dyn_ratio, 0.2);
  const kvcache::PolicyConfig eighty = eval::config_for_budget("mpcache", base, 0.8);
  EXPECT_DOUBLE_EQ(eighty.mpcache_static_ratio, 1.0);
  EXPECT_DOUBLE_EQ(eighty.mpcache_dyn_ratio, 0.8);
  EXPECT_DOUBLE_EQ(eighty.mpcache_level1_ratio, 0.8);  // raised so that level 2 can reach the ratio
}

TEST(BudgetMapping, MustafarKeepsTheBudgetFractionOfEachRow) {
  EXPECT_DOUBLE_EQ(eval::config_for_budget("mustafar", {}, 0.2).mustafar_sparsity, 0.8);
  EXPECT_DOUBLE_EQ(eval::config_for_budget("mustafar", {}, 1.0).mustafar_sparsity, 0.0);
}

TEST(BudgetMapping, RejectsRatiosOutsideZeroToOne) {
  EXPECT_THROW(eval::config_for_budget("h2o", {}, 0.0), std::invalid_argument);
  EXPECT_THROW(eval::config_for_budget("h2o", {}, 1.5), std::invalid_argument);
}

}  // namespace
