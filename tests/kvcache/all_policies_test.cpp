// Every policy through the full call sequence on random data: a GQA model of 3 layers, outputs
// finite, selections valid, and the cache sizes each policy promises.
#include "kvcache/registry/policy_registry.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

#include <random>

namespace kvcache {
namespace {

using testing::FakeEngine;

FloatMatrix random_matrix(int rows, int cols, std::mt19937& rng) {
  std::normal_distribution<double> normal;
  FloatMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = normal(rng);
  return m;
}

class AllPolicies : public ::testing::TestWithParam<std::string> {};

TEST_P(AllPolicies, RunThroughPrefillAndDecode) {
  const ModelShape shape{3, 4, 2, 8};
  const int prompt = 80, steps = 40;
  PolicyConfig config;
  config.budget = Budget{0.25, 0};  // 20 tokens
  config.rpc_period = 16;
  config.rpc_selector_window = 8;
  auto policy = make_policy(GetParam(), config);
  FakeEngine engine(*policy, shape, prompt);
  std::mt19937 rng(5);
  for (int l = 0; l < shape.layers; ++l) {
    std::vector<FloatMatrix> keys, values, queries;
    for (int g = 0; g < shape.kv_heads; ++g) {
      keys.push_back(random_matrix(prompt, shape.head_dim, rng));
      values.push_back(random_matrix(prompt, shape.head_dim, rng));
    }
    for (int h = 0; h < shape.query_heads; ++h) queries.push_back(random_matrix(prompt, shape.head_dim, rng));
    engine.prefill(l, keys, values, queries);
  }
  for (int step = 0; step < steps; ++step) {
    for (int l = 0; l < shape.layers; ++l) {
      std::vector<Eigen::RowVectorXd> key, value;
      std::vector<FloatMatrix> query;
      for (int g = 0; g < shape.kv_heads; ++g) {
        key.push_back(random_matrix(1, shape.head_dim, rng).row(0));
        value.push_back(random_matrix(1, shape.head_dim, rng).row(0));
      }
      for (int h = 0; h < shape.query_heads; ++h) query.push_back(random_matrix(1, shape.head_dim, rng));
      const auto out = engine.decode(l, key, value, query, prompt + step);
      ASSERT_EQ(out.size(), 4u);
      for (const auto& o : out) ASSERT_TRUE(o.allFinite());
      for (int g = 0; g < shape.kv_heads; ++g) {
        const HeadCache& head = engine.layer(l).heads[g];
        const Selection& sel = engine.last_selection();
        if (sel.rows[g]) {
          ASSERT_FALSE(sel.rows[g]->empty());
          ASSERT_TRUE(std::is_sorted(sel.rows[g]->begin(), sel.rows[g]->end()));
          ASSERT_LT(sel.rows[g]->back(), head.size());
        }
        ASSERT_TRUE(std::is_sorted(head.positions.begin(), head.positions.end()));
        const std::string name = GetParam();
        if (name == "streamingllm" || name == "h2o" || name == "tova" || name == "keydiff") {
          ASSERT_EQ(head.size(), 20);  // held at the budget between steps
        }
        if (name == "full" || name == "quest" || name == "mustafar") {
          ASSERT_EQ(head.size(), prompt + step + 1);
        }
        if (name == "snapkv") {
          ASSERT_EQ(head.size(), 20 + step + 1);
        }
      }
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Kvcache, AllPolicies, ::testing::ValuesIn(policy_names()),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace kvcache
