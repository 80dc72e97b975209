// Sampling by the Gumbel-max trick: argmax_i(logits_i / T + g_i), with g_i = -log(-log u_i) for
// independent uniform u_i, is distributed exactly as softmax(logits / T). The private engine
// samples this way because it then needs nothing beyond the secure argmax it already has: the
// user (P1) draws the noise and inputs it as a secret, so nobody else learns anything about the
// choice, and P1 learns only the chosen token.
#pragma once

#include "mpc/prg.hpp"

#include <Eigen/Dense>

#include <cstdint>

namespace model {

class GumbelNoise {
 public:
  explicit GumbelNoise(const mpc::Seed& seed) : prg_(seed) {}
  // A reproducible seed from a small number (demos and tests); real runs use mpc::random_seed().
  static mpc::Seed seed_from(std::uint64_t number);

  // `count` independent standard Gumbel draws.
  Eigen::RowVectorXd next(int count);

 private:
  mpc::Prg prg_;
};

// The plaintext counterpart of the private sampler: argmax(logits / temperature + noise).
int gumbel_max_token(const Eigen::RowVectorXd& logits, double temperature, const Eigen::RowVectorXd& noise);

// Throws std::invalid_argument unless 0 < temperature < infinity.
void check_sampling_temperature(double temperature);

}  // namespace model
