// Piecewise approximations of GeLU-like activations f with f(x) -> 0 as x -> -inf and
// f(x) -> x as x -> +inf. Such an f splits as f(x) = x/2 + e(x) with e even (for GeLU and SiLU
// e(x) = x (Phi(x) - 1/2) and x (sigmoid(x) - 1/2)), so on [-T, T] it is approximated by
// x/2 + P(v), v = (x/T)^2 in [0, 1], and outside by 0 or x. Fitting in v halves the degree and
// keeps the coefficients moderate; the fit is done once, in double, at start-up.
#pragma once

#include <functional>
#include <vector>

namespace protocols::ops {

struct EvenPolynomial {
  double threshold = 0;              // T
  std::vector<double> coefficients;  // P(v) = sum_k c_k v^k

  // The approximation in double precision (what the secure evaluation computes, before rounding).
  double evaluate(double x) const;
};

// Least-squares fit of e(x) = f(x) - x/2 on [-T, T] by a polynomial of `degree` in v = (x/T)^2.
EvenPolynomial fit_even_part(const std::function<double(double)>& f, double threshold, int degree);

// GPT-2's tanh form of GeLU and SiLU (x * sigmoid(x)), in double.
double gelu_reference(double x);
double silu_reference(double x);

// The fits used by the secure operators: GeLU T = 4, degree 7 (fit error 2.3e-4);
// SiLU T = 8, degree 8 (2.8e-3, dominated by SiLU(-8) itself).
const EvenPolynomial& gelu_polynomial();
const EvenPolynomial& silu_polynomial();

}  // namespace protocols::ops
