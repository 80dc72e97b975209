#include "model/layers.hpp"

#include <cmath>
#include <numbers>

namespace model {

FloatMatrix normalize(const FloatMatrix& x, const Vector& weight, const Vector& bias, Architecture architecture, double eps) {
  FloatMatrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    if (architecture == Architecture::Gpt2) {
      const double mean = x.row(r).mean();
      const Vector centered = x.row(r).array() - mean;
      const double variance = centered.squaredNorm() / static_cast<double>(x.cols());
      out.row(r) = (centered / std::sqrt(variance + eps)).cwiseProduct(weight) + bias;
    } else {
      const double mean_square = x.row(r).squaredNorm() / static_cast<double>(x.cols());
      out.row(r) = (x.row(r) / std::sqrt(mean_square + eps)).cwiseProduct(weight);
    }
  }
  return out;
}

FloatMatrix affine(const FloatMatrix& x, const FloatMatrix& w, const Vector& bias) {
  FloatMatrix out = x * w;
  if (bias.size()) out.rowwise() += bias;
  return out;
}

FloatMatrix activate(const FloatMatrix& x, Activation activation) {
  constexpr double kSqrt2OverPi = 0.7978845608028654;
  switch (activation) {
    case Activation::GeluTanh:
      return x.unaryExpr([](double v) { return 0.5 * v * (1.0 + std::tanh(kSqrt2OverPi * (v + 0.044715 * v * v * v))); });
    case Activation::GeluErf:
      return x.unaryExpr([](double v) { return 0.5 * v * (1.0 + std::erf(v / std::numbers::sqrt2)); });
    case Activation::Silu:
      return x.unaryExpr([](double v) { return v / (1.0 + std::exp(-v)); });
  }
  return x;
}

double rope_angle(int position, int i, int head_dim, double theta) {
  return static_cast<double>(position) * std::pow(theta, -2.0 * i / head_dim);
}

void apply_rope(FloatMatrix& x, int heads, int head_dim, int first_position, double theta) {
  const int half = head_dim / 2;
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    for (int i = 0; i < half; ++i) {
      const double angle = rope_angle(first_position + static_cast<int>(r), i, head_dim, theta);
      const double c = std::cos(angle), s = std::sin(angle);
      for (int h = 0; h < heads; ++h) {
        double& a = x(r, h * head_dim + i);
        double& b = x(r, h * head_dim + i + half);
        const double a0 = a, b0 = b;
        a = a0 * c - b0 * s;
        b = b0 * c + a0 * s;
      }
    }
  }
}

Vector softmax(const Vector& logits) {
  const Vector e = (logits.array() - logits.maxCoeff()).exp();
  return e / e.sum();
}

}  // namespace model
