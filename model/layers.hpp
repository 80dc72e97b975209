// The row-wise building blocks of the plaintext transformer (one row = one token).
#pragma once

#include "model/config.hpp"
#include "mpc/ring.hpp"

#include <span>

namespace model {

using mpc::FloatMatrix;
using Vector = Eigen::RowVectorXd;

// LayerNorm when `bias` is non-empty (GPT-2), RMSNorm otherwise (LLaMA).
FloatMatrix normalize(const FloatMatrix& x, const Vector& weight, const Vector& bias, Architecture architecture, double eps);

// x * w (+ bias when non-empty).
FloatMatrix affine(const FloatMatrix& x, const FloatMatrix& w, const Vector& bias);

FloatMatrix activate(const FloatMatrix& x, Activation activation);

// Rotary position embedding (Hugging Face LLaMA convention: channel i pairs with i + head_dim/2)
// applied in place to every head of `x` (rows = tokens at positions first_position, +1, ...).
// The rotary angle of channel pair (i, i + head_dim / 2) at a position (Hugging Face convention).
double rope_angle(int position, int i, int head_dim, double theta);
void apply_rope(FloatMatrix& x, int heads, int head_dim, int first_position, double theta);

// Softmax of one row, stable for large logits.
Vector softmax(const Vector& logits);

}  // namespace model
