// Proven bounds, from the weights alone, on the magnitudes of the values a forward pass compares:
// the MLP activation's input, the attention scores q.k / sqrt(d), the attention's output projection
// (attended values are convex combinations of value rows, so each component stays within the value
// bound) and the output logits, whatever
// the input tokens. The secure engine runs those comparisons on the bits the bounds need instead
// of the whole ring (model/secure/value_widths.hpp): fewer key bytes, less AES work.
//
// Why they hold: a normalisation's output is bounded whatever its input (LayerNorm:
// |(x_i - mean) / sd| <= sqrt(d - 1); RMSNorm: |x_i / rms| <= sqrt(d)), so
// |norm_i| <= |g_i| z + |b_i|; and the normalised vector itself has ||(x - mean) / sd||_2 <= sqrt(d)
// (RMSNorm: ||x / rms||_2 <= sqrt(d)). A projection after it gives the smaller of
// |y_j| <= sum_i |W_ij| |norm_i| + |c_j| and, by Cauchy-Schwarz, sqrt(d) ||g * W_j||_2 + |b . W_j| + |c_j|;
// RoPE rotates pairs, so a rotated component stays below the pair's Euclidean bound; a score is
// at most the smaller of sum_c |q_c| |k_c| over the head's components and ||q_h||_2 ||k_h||_2, each
// norm at most sqrt(d) sigma_max(diag(g) W_h) + ||b . W_h + c_h||_2 (rotations keep norms; keys
// from any earlier position obey the same bounds). The residual stream itself is never bounded
// and needs no bound.
#pragma once

#include "model/weights.hpp"

#include <vector>

namespace model {

struct ValueBounds {
  std::vector<double> activation_input;  // per layer: |GeLU input| (GPT-2) or |SiLU gate input| (LLaMA)
  std::vector<double> scores;            // per layer: |q.k| / sqrt(head_dim), over all heads
  std::vector<double> attention_output;  // per layer: |attended . W_out| before the output bias
  double logits = 0;                     // |logit| over the vocabulary
};

ValueBounds value_bounds(const TransformerWeights& weights);

}  // namespace model
