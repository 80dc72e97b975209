#include "mpc/prg.hpp"

#include <gtest/gtest.h>

#include <set>

using namespace mpc;

TEST(Prg, SameSeedSameStreamWhateverTheDrawSizes) {
  const Seed seed = random_seed();
  Prg a(seed), b(seed);
  RingMatrix big = a.random(3, 7);  // 21 words drawn at once
  RingMatrix pieces(3, 7);
  for (Eigen::Index i = 0; i < pieces.size(); ++i) pieces.data()[i] = b.next_u64();  // drawn one by one
  EXPECT_EQ(big, pieces);
  EXPECT_EQ(a.next_u64(), b.next_u64());
}

TEST(Prg, DifferentSeedsDiffer) {
  Prg a(random_seed()), b(random_seed());
  EXPECT_NE(a.random(4, 4), b.random(4, 4));
}

TEST(Prg, OutputLooksUniform) {
  Prg prg(random_seed());
  const RingMatrix m = prg.random(1, 1 << 16);
  // Each of the 64 bit positions should be set about half of the time.
  for (int bit = 0; bit < 64; ++bit) {
    long ones = 0;
    for (Eigen::Index i = 0; i < m.size(); ++i) ones += (m.data()[i] >> bit) & 1;
    EXPECT_NEAR(static_cast<double>(ones) / m.size(), 0.5, 0.02) << "bit " << bit;
  }
  std::set<u64> distinct(m.data(), m.data() + m.size());
  EXPECT_EQ(distinct.size(), static_cast<size_t>(m.size()));
}

TEST(Prg, RandomSeedsAreFresh) {
  EXPECT_NE(random_seed(), random_seed());
}
