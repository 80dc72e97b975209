// The statistics used by the privacy tests: exact p-values, and enough power at the sample sizes
// those tests use to catch a leak of plaintext-like values.
#include "mpc/prg.hpp"
#include "tests/privacy/chi_square.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace privacy_test {
namespace {

constexpr std::size_t kSampleBytes = 100'000;  // the smallest stream the privacy tests accept

using Bytes = std::vector<std::uint8_t>;

Bytes random_bytes(std::size_t n, std::uint8_t seed_byte) {
  mpc::Seed seed{};
  seed[0] = seed_byte;
  mpc::Prg prg(seed);
  Bytes bytes(n);
  prg.fill(std::span<std::uint8_t>(bytes));
  return bytes;
}

TEST(ChiSquare, SurvivalFunctionMatchesClosedFormsAndTables) {
  for (double x : {0.1, 1.0, 5.0, 30.0}) EXPECT_NEAR(chi_square_survival(x, 2), std::exp(-x / 2), 1e-12);
  EXPECT_NEAR(chi_square_survival(3.841458820694124, 1), 0.05, 1e-9);
  // Upper quantiles of chi-square with 255 degrees of freedom (the byte-histogram tests).
  EXPECT_NEAR(chi_square_survival(293.2478, 255), 0.05, 1e-4);
  EXPECT_NEAR(chi_square_survival(310.4574, 255), 0.01, 1e-4);
  EXPECT_NEAR(chi_square_survival(255.0, 255), 0.4883, 1e-3);
  EXPECT_EQ(chi_square_survival(0.0, 10), 1.0);
  EXPECT_THROW(chi_square_survival(1.0, 0), std::invalid_argument);
}

TEST(ChiSquare, UniformStreamsPass) {
  const Bytes a = random_bytes(kSampleBytes, 1), b = random_bytes(kSampleBytes, 2);
  EXPECT_GT(chi_square_vs_uniform(byte_histogram(a)).p_value, 1e-6);
  EXPECT_GT(chi_square_two_sample(byte_histogram(a), byte_histogram(b)).p_value, 1e-6);
}

// A leak of small plaintext values (token ids or fixed-point numbers in 64-bit words, whose high
// bytes are zero) in 2% of the words is found with overwhelming confidence.
TEST(ChiSquare, DetectsAFewPercentOfPlaintextWords) {
  const Bytes clean = random_bytes(kSampleBytes, 3);
  Bytes leaky = random_bytes(kSampleBytes, 4);
  for (std::size_t word = 0; word < leaky.size() / 8; word += 50)
    for (std::size_t byte = 2; byte < 8; ++byte) leaky[word * 8 + byte] = 0;
  EXPECT_LT(chi_square_vs_uniform(byte_histogram(leaky)).p_value, 1e-12);
  EXPECT_LT(chi_square_two_sample(byte_histogram(clean), byte_histogram(leaky)).p_value, 1e-12);
}

TEST(ChiSquare, TwoSampleHandlesUnequalSizesAndEmptyBins) {
  const Bytes big = random_bytes(4 * kSampleBytes, 5), small = random_bytes(kSampleBytes, 6);
  EXPECT_GT(chi_square_two_sample(byte_histogram(big), byte_histogram(small)).p_value, 1e-6);
  ByteHistogram only_low{}, only_high{};
  only_low[1] = 1000;
  only_high[200] = 1000;
  EXPECT_LT(chi_square_two_sample(only_low, only_high).p_value, 1e-12);
  EXPECT_THROW(chi_square_vs_uniform(ByteHistogram{}), std::invalid_argument);
}

}  // namespace
}  // namespace privacy_test
