#include "kvcache/rpc.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

namespace kvcache {
namespace {

using testing::FakeEngine;
using testing::one_row;
using testing::row;

TEST(Rpc, CompressesGeneratedTokensEveryPeriod) {
  PolicyConfig config;
  config.budget = Budget{1.0, 4};  // prompt of 4 fits: no prefill eviction
  config.observation_window = 2;
  config.rpc_period = 4;
  config.rpc_selector_window = 2;
  config.rpc_keep_fraction = 0.5;
  RpcPolicy policy(config);
  FakeEngine engine(policy, ModelShape{1, 1, 1, 2}, 4);
  engine.prefill(0, {FloatMatrix::Zero(4, 2)}, {FloatMatrix::Zero(4, 2)}, {FloatMatrix::Zero(4, 2)});
  // Generated keys: position 5 points along x, the selector queries (positions 6, 7) too, so among
  // the scored generated tokens (positions 4, 5; 6 and 7 are the selector window) 5 wins.
  const std::vector<Eigen::RowVectorXd> keys = {row({0, 0}), row({5, 0}), row({0, 0}), row({0, 0})};
  for (int step = 0; step < 4; ++step) {
    EXPECT_EQ(engine.layer(0).heads[0].size(), 4 + step);  // no compression before the period
    engine.decode(0, {keys[step]}, {row({0, 0})}, {one_row({1, 0})}, 4 + step);
  }
  EXPECT_EQ(engine.layer(0).heads[0].positions, (std::vector<int>{0, 1, 2, 3, 5, 6, 7}));
}

}  // namespace
}  // namespace kvcache
