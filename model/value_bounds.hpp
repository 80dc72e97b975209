// Proven bounds, from the weights alone, on the magnitudes of the values a forward pass compares:
// the MLP activation's input, the attention scores q.k / sqrt(d) and the output logits, whatever
// the input tokens. The secure engine runs those comparisons on the bits the bounds need instead
// of the whole ring (model/secure/value_widths.hpp): fewer key bytes, less AES work.
//
// Why they hold: a normalisation's output is bounded whatever its input (LayerNorm:
// |(x_i - mean) / sd| <= sqrt(d - 1); RMSNorm: |x_i / rms| <= sqrt(d)), so
// |norm_i| <= |g_i| z + |b_i|; a projection after it gives |y_j| <= sum_i |W_ij| |norm_i| + |b_j|;
// RoPE rotates pairs, so a rotated component stays below the pair's Euclidean bound; a score is
// at most sum_c |q_c| |k_c| over the head's components (keys from any earlier position obey the
// same bound). The residual stream itself is never bounded and needs no bound.
#pragma once

#include "model/weights.hpp"

#include <vector>

namespace model {

struct ValueBounds {
  std::vector<double> activation_input;  // per layer: |GeLU input| (GPT-2) or |SiLU gate input| (LLaMA)
  std::vector<double> scores;            // per layer: |q.k| / sqrt(head_dim), over all heads
  double logits = 0;                     // |logit| over the vocabulary
};

ValueBounds value_bounds(const TransformerWeights& weights);

}  // namespace model
