#include "eval/agreement.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace {

TEST(Agreement, IdenticalGenerationsAgreeFully) {
  const std::vector<int> tokens = {1, 2, 3, 4};
  const eval::AgreementScore s = eval::compare_generations(tokens, tokens);
  EXPECT_EQ(s.compared, 4);
  EXPECT_DOUBLE_EQ(s.prefix_fraction(), 1.0);
  EXPECT_DOUBLE_EQ(s.overall_fraction(), 1.0);
}

TEST(Agreement, PrefixStopsAtTheFirstDivergenceOverallCountsEveryMatch) {
  const eval::AgreementScore s =
      eval::compare_generations(std::vector<int>{1, 2, 3, 4, 5}, std::vector<int>{1, 2, 9, 4, 5});
  EXPECT_EQ(s.prefix_match, 2);
  EXPECT_EQ(s.matching, 4);
  EXPECT_DOUBLE_EQ(s.prefix_fraction(), 0.4);
  EXPECT_DOUBLE_EQ(s.overall_fraction(), 0.8);
}

TEST(Agreement, MissingCandidateTokensAreMismatches) {
  const eval::AgreementScore s = eval::compare_generations(std::vector<int>{1, 2, 3, 4}, std::vector<int>{1, 2});
  EXPECT_EQ(s.prefix_match, 2);
  EXPECT_EQ(s.matching, 2);
  EXPECT_DOUBLE_EQ(s.overall_fraction(), 0.5);
}

TEST(Agreement, ScoresAccumulate) {
  eval::AgreementScore total = eval::compare_generations(std::vector<int>{1, 2}, std::vector<int>{1, 3});
  total += eval::compare_generations(std::vector<int>{5, 6}, std::vector<int>{5, 6});
  EXPECT_EQ(total.compared, 4);
  EXPECT_EQ(total.prefix_match, 3);
  EXPECT_EQ(total.matching, 3);
}

}  // namespace
