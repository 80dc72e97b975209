// The per-operator-class profile charges nested scopes exclusively and splits online from offline
// bytes by phase.
#include "net/operator_profile.hpp"

#include <gtest/gtest.h>

namespace {

TEST(OperatorProfile, NestedScopesAreChargedExclusively) {
  net::Stats stats;
  net::OperatorProfile profile(stats);
  {
    net::ProfileScope outer(profile, "attention.softmax");
    stats.on_send(1, 100);
    stats.on_round();
    {
      net::ProfileScope inner(profile, "compare");
      stats.on_send(1, 40);
      stats.on_round();
      stats.on_round();
    }
    {
      net::PhaseScope offline(stats, net::kOfflinePhase);
      stats.on_send(1, 7);
    }
  }
  {
    net::ProfileScope again(profile, "compare");
    stats.on_send(0, 1);
  }
  const auto& classes = profile.classes();
  ASSERT_EQ(classes.size(), 2u);
  const net::ProfileFigures& softmax = classes.at("attention.softmax");
  EXPECT_EQ(softmax.online_bytes_sent, 100u);
  EXPECT_EQ(softmax.offline_bytes_sent, 7u);
  EXPECT_EQ(softmax.rounds, 1u);
  EXPECT_EQ(softmax.calls, 1u);
  const net::ProfileFigures& compare = classes.at("compare");
  EXPECT_EQ(compare.online_bytes_sent, 41u);
  EXPECT_EQ(compare.rounds, 2u);
  EXPECT_EQ(compare.calls, 2u);
  EXPECT_GE(softmax.seconds, 0.0);
  EXPECT_GE(compare.seconds, 0.0);
  profile.reset();
  EXPECT_TRUE(profile.classes().empty());
}

TEST(OperatorProfile, LeaveWithoutEnterIsALogicError) {
  net::Stats stats;
  net::OperatorProfile profile(stats);
  EXPECT_THROW(profile.leave(), std::logic_error);
}

}  // namespace
