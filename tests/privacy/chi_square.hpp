// Pearson chi-square tests on byte-value histograms: is a byte stream uniform, and do two byte
// streams follow the same distribution? p-values come from the exact chi-square survival function.
#pragma once

#include <array>
#include <cstdint>
#include <span>

namespace privacy_test {

using ByteHistogram = std::array<std::uint64_t, 256>;

ByteHistogram byte_histogram(std::span<const std::uint8_t> bytes);

struct ChiSquareResult {
  double statistic = 0;
  int degrees_of_freedom = 0;
  double p_value = 1;  // probability of a statistic at least this large if the hypothesis holds
};

// Goodness of fit against 256 equally likely byte values.
ChiSquareResult chi_square_vs_uniform(const ByteHistogram& counts);

// Two-sample test (samples of different sizes allowed) that both histograms come from one distribution.
ChiSquareResult chi_square_two_sample(const ByteHistogram& a, const ByteHistogram& b);

// P(X >= statistic) for X chi-square distributed with `degrees_of_freedom` (> 0).
double chi_square_survival(double statistic, int degrees_of_freedom);

}  // namespace privacy_test
