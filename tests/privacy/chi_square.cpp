#include "tests/privacy/chi_square.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

namespace privacy_test {

namespace {

constexpr int kMaxIterations = 10000;
constexpr double kRelativeEpsilon = 1e-15;

// exp(-x) x^a / Gamma(a), the common factor of both expansions, computed in logs to avoid overflow.
double gamma_prefactor(double a, double x) { return std::exp(-x + a * std::log(x) - std::lgamma(a)); }

// Lower regularized incomplete gamma P(a, x) by its power series; converges fast for x < a + 1.
double lower_gamma_series(double a, double x) {
  double term = 1.0 / a, sum = term;
  for (int n = 1; n < kMaxIterations && std::abs(term) > std::abs(sum) * kRelativeEpsilon; ++n) {
    term *= x / (a + n);
    sum += term;
  }
  return sum * gamma_prefactor(a, x);
}

// Upper regularized incomplete gamma Q(a, x) by its continued fraction (modified Lentz); for x >= a + 1.
double upper_gamma_fraction(double a, double x) {
  constexpr double tiny = std::numeric_limits<double>::min() / kRelativeEpsilon;
  double b = x + 1.0 - a, c = 1.0 / tiny, d = 1.0 / b, h = d;
  for (int i = 1; i < kMaxIterations; ++i) {
    const double an = -i * (i - a);
    b += 2.0;
    d = an * d + b;
    if (std::abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::abs(c) < tiny) c = tiny;
    d = 1.0 / d;
    const double delta = d * c;
    h *= delta;
    if (std::abs(delta - 1.0) < kRelativeEpsilon) break;
  }
  return h * gamma_prefactor(a, x);
}

}  // namespace

ByteHistogram byte_histogram(std::span<const std::uint8_t> bytes) {
  ByteHistogram counts{};
  for (std::uint8_t b : bytes) ++counts[b];
  return counts;
}

double chi_square_survival(double statistic, int degrees_of_freedom) {
  if (degrees_of_freedom <= 0) throw std::invalid_argument("chi-square needs at least one degree of freedom");
  if (statistic <= 0) return 1.0;
  const double a = 0.5 * degrees_of_freedom, x = 0.5 * statistic;
  return x < a + 1.0 ? 1.0 - lower_gamma_series(a, x) : upper_gamma_fraction(a, x);
}

ChiSquareResult chi_square_vs_uniform(const ByteHistogram& counts) {
  const double total = static_cast<double>(std::accumulate(counts.begin(), counts.end(), std::uint64_t{0}));
  if (total == 0) throw std::invalid_argument("chi-square test of an empty sample");
  const double expected = total / counts.size();
  ChiSquareResult r;
  for (std::uint64_t observed : counts) r.statistic += std::pow(static_cast<double>(observed) - expected, 2) / expected;
  r.degrees_of_freedom = static_cast<int>(counts.size()) - 1;
  r.p_value = chi_square_survival(r.statistic, r.degrees_of_freedom);
  return r;
}

ChiSquareResult chi_square_two_sample(const ByteHistogram& a, const ByteHistogram& b) {
  const double total_a = static_cast<double>(std::accumulate(a.begin(), a.end(), std::uint64_t{0}));
  const double total_b = static_cast<double>(std::accumulate(b.begin(), b.end(), std::uint64_t{0}));
  if (total_a == 0 || total_b == 0) throw std::invalid_argument("chi-square test of an empty sample");
  // Scaling each count by the other sample's size makes samples of unequal size comparable.
  const double scale_a = std::sqrt(total_b / total_a), scale_b = std::sqrt(total_a / total_b);
  ChiSquareResult r;
  int used_bins = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double sum = static_cast<double>(a[i] + b[i]);
    if (sum == 0) continue;  // a value neither sample contains carries no information
    ++used_bins;
    r.statistic += std::pow(scale_a * static_cast<double>(a[i]) - scale_b * static_cast<double>(b[i]), 2) / sum;
  }
  r.degrees_of_freedom = std::max(used_bins - 1, 1);
  r.p_value = chi_square_survival(r.statistic, r.degrees_of_freedom);
  return r;
}

}  // namespace privacy_test
