// The bit widths of the secure engine's comparisons that depend on the model: the MLP activation's
// range tests, the attention softmax's max and the greedy argmax run on the bits the proven bounds
// of model/value_bounds.hpp need, instead of the whole 64-bit ring.
//
// The bounds come from the weights, which only the model owner holds, so P0 computes the widths
// and announces them to the other parties (the 2PC dealer included: it generates keys of these
// widths) in the public set-up phase. They are a function of the weights alone, never of the
// prompt; what they reveal is the bit length of each bound (a few bits per layer), the same kind
// of public parameter as the model's shapes.
#pragma once

#include "model/config.hpp"
#include "model/value_bounds.hpp"
#include "protocols/protocol.hpp"

#include <cstdint>
#include <span>
#include <vector>

namespace model::secure {

// Every width w is "values below 2^(w - 2) in magnitude", the convention of SecureOps' max,
// argmax, softmax, GeLU and SiLU.
struct ValueWidths {
  std::vector<int> activation;  // per layer
  std::vector<int> scores;      // per layer
  std::vector<int> attention_output;  // per layer: decides fused_output_truncation
  int logits = 64;

  bool operator==(const ValueWidths&) const = default;
};

// Smallest w with 2 * bound < 2^(w - 2 - F) (one bit of margin for the fixed-point and
// approximation errors), at least F + 2 and at most 64; 64 for a non-finite bound.
int width_for_bound(double bound, int frac_bits);

ValueWidths value_widths(const ValueBounds& bounds, int frac_bits);

// Whether a product at 2F fraction bits times weights at F (3F in all) of values below
// 2^(width - 2) at F stays below the truncation's 2^62: then the attention's p . V goes into the
// output projection untruncated and one truncation by 2F serves both products.
inline bool fits_one_truncation_of_two_products(int width, int frac_bits) { return width + 2 * frac_bits <= 64; }

// One byte per width: layers x activation, layers x scores, layers x attention output, logits.
std::vector<std::uint8_t> encode_value_widths(const ValueWidths& widths);
// Throws std::invalid_argument for a message of the wrong size or a width outside [F + 2, 64].
ValueWidths decode_value_widths(std::span<const std::uint8_t> bytes, int layers, int frac_bits);

// P0 computes the widths from its weights and sends them to every other party, which checks them;
// all parties return the same widths. Runs in the public "setup" phase.
ValueWidths agree_value_widths(protocols::Protocol& proto, const ModelConfig& config, const TransformerWeights* owner_weights);

}  // namespace model::secure
