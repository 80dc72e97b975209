// The transformer's weights as secret shares, in the layout the secure forward pass consumes.
// P0 (the model owner) encodes its weights in fixed point and inputs them once; every other party
// (P1, P2 or the 2PC dealer) builds the same structure from the public configuration alone. All
// projection matrices are then masked once (`fix`), so per-token products open only activations.
#pragma once

#include "model/config.hpp"
#include "model/weights.hpp"
#include "protocols/protocol.hpp"

#include <cstdint>
#include <optional>
#include <vector>

namespace model::secure {

using protocols::FixedOperand;
using protocols::Protocol;
using protocols::Share;

// Norm biases and the position embedding exist for GPT-2 only (LLaMA: RMSNorm, rotary positions);
// they are empty shares otherwise. Missing projection biases are zeros.
struct SecureLayerWeights {
  Share attn_norm_gain, attn_norm_bias;  // 1 x hidden
  // hidden x (q | k | v) = hidden x (heads + 2 kv_heads) * head_dim; the q columns (and bias) are
  // pre-scaled by 1/sqrt(head_dim) so that attention scores need no extra multiplication.
  FixedOperand qkv;
  Share qkv_bias;
  FixedOperand out;  // heads * head_dim x hidden
  Share out_bias;
  Share mlp_norm_gain, mlp_norm_bias;
  // GPT-2: hidden x intermediate (c_fc). LLaMA: hidden x 2 intermediate, [gate | up], so both
  // projections take one product.
  FixedOperand up;
  Share up_bias;
  FixedOperand down;  // intermediate x hidden
  Share down_bias;
};

struct SecureWeights {
  FixedOperand token_embedding;  // vocab x hidden; also the tied output matrix (used transposed)
  Share position_embedding;      // GPT-2: max_positions x hidden; positions are public, rows are sliced locally
  std::vector<SecureLayerWeights> layers;
  Share final_norm_gain, final_norm_bias;
  std::optional<FixedOperand> lm_head;  // hidden x vocab, only when the output is not tied
};

// Ring elements of secret tensors, split by whether they are fixed operands (masked once: the
// projection matrices, the KV cache) or plain shares (biases, norms, the position embedding).
struct SecretElements {
  std::uint64_t fixed = 0;
  std::uint64_t other = 0;
};
SecretElements secret_elements(const SecureWeights& w);
// Ring elements of one fixed operand's value (rows x cols).
std::uint64_t element_count(const FixedOperand& f);

// The bound on weight magnitudes the secure engine accepts at `frac_bits` fraction bits: a weight
// times an activation of magnitude 1 must fit the signed 64-bit ring at 2F fraction bits before
// truncation: |w| < 2^(63 - 2F) (2^31 at the default 16 bits).
double max_weight_magnitude(int frac_bits);

// Throws std::invalid_argument naming the tensor when a value is not finite or outside
// max_weight_magnitude(frac_bits).
void check_encodable(const std::string& name, const FloatMatrix& value, int frac_bits);

// Throws std::invalid_argument naming the norm when a LayerNorm/RMSNorm gain reaches `limit` in
// magnitude (the FSS normalisation's bound, protocols::ops::kMaxNormGain).
void check_norm_gains(const TransformerWeights& w, double limit);

// The traffic phase of sharing and masking the weights.
inline constexpr const char* kWeightsPhase = "weights";

// Shares and masks the weights of a GPT-2 or LLaMA-style model described by `config` (phase
// kWeightsPhase). P0 must pass its weights
// (whose config must equal `config`); every other party must pass nullptr. Missing biases are
// shared as zeros so that the shapes, and hence the program, depend on the public config only.
SecureWeights share_weights(Protocol& proto, const ModelConfig& config, const TransformerWeights* owner_weights);

}  // namespace model::secure
