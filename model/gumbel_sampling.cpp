#include "model/gumbel_sampling.hpp"

#include <cmath>
#include <stdexcept>

namespace model {

mpc::Seed GumbelNoise::seed_from(std::uint64_t number) {
  mpc::Seed seed{};
  seed[0] = 'g';  // domain separation from other seeded streams that start from a small number
  for (int i = 0; i < 8; ++i) seed[1 + i] = static_cast<std::uint8_t>(number >> (8 * i));
  return seed;
}

Eigen::RowVectorXd GumbelNoise::next(int count) {
  if (count < 0) throw std::invalid_argument("negative Gumbel noise count");
  Eigen::RowVectorXd noise(count);
  for (int i = 0; i < count; ++i) {
    // 53 random bits, centred in their interval: u is never 0 or 1, so both logs are finite.
    const double u = (static_cast<double>(prg_.next_u64() >> 11) + 0.5) * 0x1.0p-53;
    noise[i] = -std::log(-std::log(u));
  }
  return noise;
}

void check_sampling_temperature(double temperature) {
  if (!(temperature > 0.0) || !std::isfinite(temperature))
    throw std::invalid_argument("sampling temperature must be a finite number > 0 (use greedy decoding for 0)");
}

int gumbel_max_token(const Eigen::RowVectorXd& logits, double temperature, const Eigen::RowVectorXd& noise) {
  check_sampling_temperature(temperature);
  if (logits.size() == 0 || noise.size() != logits.size())
    throw std::invalid_argument("Gumbel-max sampling needs one noise value per logit");
  Eigen::Index best = 0;
  (logits / temperature + noise).maxCoeff(&best);
  return static_cast<int>(best);
}

}  // namespace model
