#include "kvcache/quest.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

#include <random>

namespace kvcache {
namespace {

using testing::FakeEngine;
using testing::one_row;
using testing::row;
using testing::rows_of;

TEST(Quest, AttendsTopPageByUpperBoundPlusCurrentPage) {
  PolicyConfig config;
  config.budget = Budget{1.0, 4};  // 2 pages of 2 tokens
  config.page_size = 2;
  QuestPolicy policy(config);
  FakeEngine engine(policy, ModelShape{1, 1, 1, 2}, 8);
  // Pages: {0,1} max x 1, {2,3} max x 5, {4,5} max x 2, {6,7} max x 3. Query along +x.
  const FloatMatrix keys = rows_of({{1, 0}, {0, 0}, {5, 0}, {-9, 0}, {2, 0}, {2, 0}, {3, 0}, {0, 0}});
  engine.prefill(0, {keys}, {FloatMatrix::Zero(8, 2)}, {FloatMatrix::Zero(8, 2)});
  EXPECT_EQ(engine.layer(0).heads[0].size(), 8);  // nothing evicted
  engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({1, 0})}, 8);
  ASSERT_TRUE(engine.last_selection().rows[0].has_value());
  EXPECT_EQ(*engine.last_selection().rows[0], (std::vector<int>{2, 3, 8}));
  // A query along -x flips the bound to -min: page {2,3} (min -9) still wins with bound 9.
  engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({-1, 0})}, 9);
  EXPECT_EQ(*engine.last_selection().rows[0], (std::vector<int>{2, 3, 8, 9}));
}

TEST(Quest, UpperBoundIsAtLeastTheTrueMaximum) {
  std::mt19937 rng(7);
  std::normal_distribution<double> normal;
  for (int trial = 0; trial < 200; ++trial) {
    FloatMatrix keys(16, 8);
    for (Eigen::Index i = 0; i < keys.size(); ++i) keys.data()[i] = normal(rng);
    Eigen::RowVectorXd q(8);
    for (int i = 0; i < 8; ++i) q[i] = normal(rng);
    const double bound = box_upper_bound(q, keys.colwise().maxCoeff(), keys.colwise().minCoeff());
    EXPECT_GE(bound + 1e-12, (keys * q.transpose()).maxCoeff());
  }
}

TEST(Quest, CacheWithinPageBudgetAttendsEverything) {
  PolicyConfig config;
  config.budget = Budget{1.0, 8};  // 2 pages of 4
  config.page_size = 4;
  config.window_outside_budget = true;  // + the current page: 3 pages
  QuestPolicy policy(config);
  FakeEngine engine(policy, ModelShape{1, 1, 1, 2}, 8);
  engine.prefill(0, {FloatMatrix::Zero(8, 2)}, {FloatMatrix::Zero(8, 2)}, {FloatMatrix::Zero(8, 2)});
  engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({1, 0})}, 8);  // 9 rows = 3 pages
  EXPECT_FALSE(engine.last_selection().rows[0].has_value());
  engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({1, 0})}, 9);
  EXPECT_FALSE(engine.last_selection().rows[0].has_value());
  for (int p = 10; p < 13; ++p) engine.decode(0, {row({0, 0})}, {row({0, 0})}, {one_row({1, 0})}, p);
  ASSERT_TRUE(engine.last_selection().rows[0].has_value());  // 13 rows = 4 pages > 3
  EXPECT_EQ(engine.last_selection().rows[0]->size(), 9u);    // 2 full pages + the current page {12}
}

}  // namespace
}  // namespace kvcache
