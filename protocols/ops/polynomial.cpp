#include "protocols/ops/polynomial.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <numbers>
#include <stdexcept>

namespace protocols::ops {

double EvenPolynomial::evaluate(double x) const {
  if (x < -threshold) return 0.0;
  if (x > threshold) return x;
  const double v = (x / threshold) * (x / threshold);
  double acc = 0.0;
  for (auto it = coefficients.rbegin(); it != coefficients.rend(); ++it) acc = acc * v + *it;
  return x / 2 + acc;
}

EvenPolynomial fit_even_part(const std::function<double(double)>& f, double threshold, int degree) {
  if (threshold <= 0 || degree < 1) throw std::invalid_argument("fit_even_part: need T > 0 and degree >= 1");
  // Chebyshev nodes in v spread the residual evenly instead of letting it grow at the ends.
  const int samples = 64 * (degree + 1);
  Eigen::MatrixXd design(samples, degree + 1);
  Eigen::VectorXd target(samples);
  for (int i = 0; i < samples; ++i) {
    const double v = 0.5 - 0.5 * std::cos(std::numbers::pi * (i + 0.5) / samples);
    const double x = threshold * std::sqrt(v);
    double power = 1.0;
    for (int k = 0; k <= degree; ++k, power *= v) design(i, k) = power;
    target(i) = f(x) - x / 2;
  }
  const Eigen::VectorXd c = design.colPivHouseholderQr().solve(target);
  return EvenPolynomial{threshold, std::vector<double>(c.data(), c.data() + c.size())};
}

double gelu_reference(double x) {
  const double k = std::sqrt(2.0 / std::numbers::pi);
  return 0.5 * x * (1.0 + std::tanh(k * (x + 0.044715 * x * x * x)));
}

double silu_reference(double x) { return x / (1.0 + std::exp(-x)); }

const EvenPolynomial& gelu_polynomial() {
  static const EvenPolynomial p = fit_even_part(gelu_reference, 4.0, 7);
  return p;
}

const EvenPolynomial& silu_polynomial() {
  static const EvenPolynomial p = fit_even_part(silu_reference, 8.0, 8);
  return p;
}

}  // namespace protocols::ops
