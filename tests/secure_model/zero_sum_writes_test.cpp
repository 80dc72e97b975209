// The residual-stream writes of the secure GPT-2 engine: encoded rows sum to exactly zero and stay
// within one unit of F of the centred weights.
#include "model/secure/zero_sum_writes.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace {

TEST(ZeroSumWrites, EveryRowSumsToZeroAndEveryEntryStaysWithinOneUnit) {
  const mpc::FixedPoint fp(16);
  std::mt19937_64 gen(7);
  std::normal_distribution<double> normal(0.0, 0.02);
  mpc::FloatMatrix m(6, 768);
  for (Eigen::Index i = 0; i < m.rows(); ++i)
    for (Eigen::Index j = 0; j < m.cols(); ++j) m(i, j) = normal(gen) + 0.3 * static_cast<double>(i);  // rows with a mean
  m.row(5).setConstant(0.1234567);  // a constant row becomes all zeros
  m(4, 0) = 37.5;                   // and one large entry
  const mpc::RingMatrix encoded = model::secure::encode_zero_sum_rows(m, fp);
  ASSERT_EQ(encoded.rows(), m.rows());
  ASSERT_EQ(encoded.cols(), m.cols());
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    mpc::u64 sum = 0;
    const double mean = m.row(i).mean();
    for (Eigen::Index j = 0; j < m.cols(); ++j) {
      sum += encoded(i, j);
      const double got = static_cast<double>(static_cast<std::int64_t>(encoded(i, j))) / 65536.0;
      EXPECT_LT(std::abs(got - (m(i, j) - mean)), 1.0 / 65536.0) << i << ", " << j;
    }
    EXPECT_EQ(sum, 0u) << "row " << i;
  }
  EXPECT_TRUE((encoded.row(5).array() == 0).all());
}

}  // namespace
