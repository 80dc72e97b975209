#include "model/secure/secure_tokens.hpp"

#include "model/gumbel_sampling.hpp"

#include <stdexcept>
#include <string>

namespace model::secure {

using mpc::RingMatrix;
using protocols::Role;
using protocols::Share;

namespace {

// The index of the single 1 in an opened one-hot row; anything else means the argmax failed.
int index_of_one_hot(const RingMatrix& one_hot) {
  int index = -1;
  for (Eigen::Index j = 0; j < one_hot.cols(); ++j) {
    if (one_hot(0, j) == 0) continue;
    if (one_hot(0, j) != 1 || index >= 0) throw std::runtime_error("secure argmax did not produce a one-hot row");
    index = static_cast<int>(j);
  }
  if (one_hot.rows() != 1 || index < 0) throw std::runtime_error("secure argmax did not produce a one-hot row");
  return index;
}

}  // namespace

RingMatrix prompt_one_hot(const ModelConfig& config, std::span<const int> tokens, int length) {
  if (static_cast<int>(tokens.size()) != length)
    throw std::invalid_argument("P1's prompt has " + std::to_string(tokens.size()) + " tokens, the public length is " +
                                std::to_string(length));
  RingMatrix one_hot = RingMatrix::Zero(length, config.vocab_size);
  for (int i = 0; i < length; ++i) {
    if (tokens[i] < 0 || tokens[i] >= config.vocab_size)
      throw std::out_of_range("prompt token " + std::to_string(i) + " is outside the vocabulary of " +
                              std::to_string(config.vocab_size));
    one_hot(i, tokens[i]) = 1;
  }
  return one_hot;
}

NextToken greedy_token(protocols::ops::SecureOps& ops, const Share& logits, int value_bits) {
  protocols::Protocol& proto = ops.protocol();
  NextToken out{ops.argmax(logits, value_bits).one_hot, std::nullopt};
  const RingMatrix opened = proto.reveal(out.one_hot, 1);
  if (proto.role() == Role::P1) out.token = index_of_one_hot(opened);
  return out;
}

Share gumbel_perturbed(protocols::ops::SecureOps& ops, const Share& logits, double temperature,
                       const Eigen::RowVectorXd* user_noise) {
  check_sampling_temperature(temperature);
  protocols::Protocol& proto = ops.protocol();
  const Eigen::Index vocab = logits.cols();
  const bool user = proto.role() == Role::P1;
  if (user && (user_noise == nullptr || user_noise->size() != vocab))
    throw std::invalid_argument("P1 must supply one Gumbel noise value per vocabulary entry");
  const mpc::FixedPoint& fp = proto.fixed_point();
  RingMatrix noise;
  if (user) {
    noise.resize(1, vocab);
    for (Eigen::Index i = 0; i < vocab; ++i) noise(0, i) = fp.encode((*user_noise)[i]);
  }
  const Share scaled = proto.truncate(proto.scale(logits, fp.encode(1.0 / temperature)));
  return proto.add(scaled, proto.input(1, user ? &noise : nullptr, 1, vocab));
}

}  // namespace model::secure
