// Tokens in and out of the secure engine: the user's prompt as a secret one-hot input, and the
// next token by secure argmax (greedy) or the Gumbel-max trick with the user's secret noise,
// revealed to P1 only.
#pragma once

#include "model/config.hpp"
#include "protocols/ops/secure_ops.hpp"
#include "protocols/protocol.hpp"

#include <optional>
#include <span>

namespace model::secure {

// The next token of a step: its secret one-hot (1 x vocab, integers) on every party, and its index
// on P1 only.
struct NextToken {
  protocols::Share one_hot;
  std::optional<int> token;
};

// P1's prompt as length x vocab one-hot rows (integers); throws when it does not have the public
// length or holds a token outside the vocabulary.
mpc::RingMatrix prompt_one_hot(const ModelConfig& config, std::span<const int> tokens, int length);

// Secure argmax of secret logits (1 x vocab); the index is revealed to P1 only.
// |logits| < 2^(value_bits - 2) (SecureOps::argmax).
NextToken greedy_token(protocols::ops::SecureOps& ops, const protocols::Share& logits, int value_bits = 64);
// For a draw from softmax(logits / temperature) by the Gumbel-max trick (model/gumbel_sampling.hpp):
// logits / temperature plus P1's own secret noise (`user_noise`, 1 x vocab, on P1 only, input
// here); the greedy token of the result is the draw. The temperature is public.
protocols::Share gumbel_perturbed(protocols::ops::SecureOps& ops, const protocols::Share& logits, double temperature,
                                  const Eigen::RowVectorXd* user_noise);

}  // namespace model::secure
