#include "kvcache/layer_cache.hpp"
#include "kvcache/policy.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

namespace kvcache {
namespace {

using testing::row;

TEST(Budget, RatioRoundsToNearestAndClamps) {
  EXPECT_EQ((Budget{0.2, 0}.resolve(10)), 2);
  EXPECT_EQ((Budget{0.25, 0}.resolve(10)), 3);  // 2.5 rounds away from zero
  EXPECT_EQ((Budget{0.01, 0}.resolve(10)), 1);  // at least one token
  EXPECT_EQ((Budget{1.0, 0}.resolve(7)), 7);
}

TEST(Budget, TokenCountWinsOverRatioAndIsCappedByPrompt) {
  EXPECT_EQ((Budget{0.5, 5}.resolve(100)), 5);
  EXPECT_EQ((Budget{0.5, 5}.resolve(3)), 3);
}

TEST(Budget, RejectsInvalidInputs) {
  EXPECT_THROW((Budget{0.0, 0}.resolve(10)), std::invalid_argument);
  EXPECT_THROW((Budget{1.5, 0}.resolve(10)), std::invalid_argument);
  EXPECT_THROW((Budget{0.5, 0}.resolve(0)), std::invalid_argument);
}

TEST(HeadCache, AppendKeepsRowsAndPositions) {
  HeadCache head;
  head.append(row({1, 2}), row({3, 4}), 0);
  head.append(row({5, 6}), row({7, 8}), 5);
  ASSERT_EQ(head.size(), 2);
  EXPECT_EQ(head.keys(1, 0), 5);
  EXPECT_EQ(head.values(0, 1), 4);
  EXPECT_EQ(head.positions, (std::vector<int>{0, 5}));
  EXPECT_THROW(head.append(row({1, 2, 3}), row({1, 2}), 6), std::invalid_argument);
}

// A decode step appends a row per head: within the capacity the cache does not move (no copy of
// the rows already there), and eviction keeps the capacity for the rows still to come.
TEST(HeadCache, AppendsWithinCapacityDoNotMoveTheCache) {
  HeadCache head;
  head.append(row({0, 1}), row({2, 0}), 0);  // the first row takes a block of several
  ASSERT_GE(head.keys.capacity(), 8);
  const double* keys_at = head.keys.data();
  const double* values_at = head.values.data();
  for (int i = 1; i < 8; ++i) head.append(row({double(i), 1}), row({2, double(i)}), i);
  EXPECT_EQ(head.keys.data(), keys_at);
  EXPECT_EQ(head.values.data(), values_at);
  head.keep({0, 7});
  head.append(row({8, 1}), row({2, 8}), 8);
  EXPECT_EQ(head.keys.data(), keys_at);
  EXPECT_EQ(head.keys(1, 0), 7);
  EXPECT_EQ(head.values(2, 1), 8);
}

// A prompt-time eviction that drops most rows returns their storage (the block shrinks to the
// kept rows plus one growth step); dropping a few rows keeps the block where it is.
TEST(HeadCache, KeepingFewRowsFreesTheStorageOfTheOthers) {
  HeadCache head;
  head.keys = FloatMatrix::Zero(200, 2);
  head.values = FloatMatrix::Zero(200, 2);
  for (int i = 0; i < 200; ++i) {
    head.keys(i, 0) = i;
    head.values(i, 1) = -i;
    head.positions.push_back(i);
  }
  std::vector<int> all_but_one(199);
  for (int i = 0; i < 199; ++i) all_but_one[i] = i + (i >= 50);
  const double* at = head.keys.data();
  head.keep(all_but_one);
  EXPECT_EQ(head.keys.data(), at);
  EXPECT_EQ(head.keys.capacity(), 200);
  std::vector<int> every_tenth;
  for (int i = 0; i < 199; i += 10) every_tenth.push_back(i);
  head.keep(every_tenth);
  ASSERT_EQ(head.size(), 20);
  EXPECT_LE(head.keys.capacity(), 20 + mpc::GrowingRows<double>::kMinGrowthRows);
  EXPECT_LE(head.values.capacity(), 20 + mpc::GrowingRows<double>::kMinGrowthRows);
  EXPECT_EQ(head.keys(1, 0), 10);   // row 10 of the 199 (position 10)
  EXPECT_EQ(head.keys(19, 0), 191);  // row 190 of the 199 (position 191: 50 was dropped)
  EXPECT_EQ(head.values(19, 1), -191);
  EXPECT_EQ(head.positions[19], 191);
}

TEST(HeadCache, KeepCompactsInOrder) {
  HeadCache head;
  for (int i = 0; i < 5; ++i) head.append(row({double(i), 0}), row({0, double(10 * i)}), 100 + i);
  head.keep({1, 3, 4});
  ASSERT_EQ(head.size(), 3);
  EXPECT_EQ(head.positions, (std::vector<int>{101, 103, 104}));
  EXPECT_EQ(head.keys(1, 0), 3);
  EXPECT_EQ(head.values(2, 1), 40);
  head.keep({});
  EXPECT_EQ(head.size(), 0);
  head.append(row({9, 9}), row({9, 9}), 200);  // usable again after being emptied
  EXPECT_EQ(head.size(), 1);
}

TEST(HeadCache, KeepRejectsBadRows) {
  HeadCache head;
  for (int i = 0; i < 3; ++i) head.append(row({1}), row({1}), i);
  EXPECT_THROW(head.keep({0, 3}), std::out_of_range);
  EXPECT_THROW(head.keep({-1}), std::out_of_range);
  EXPECT_THROW(head.keep({1, 1}), std::invalid_argument);
  EXPECT_THROW(head.keep({2, 1}), std::invalid_argument);
}

}  // namespace
}  // namespace kvcache
