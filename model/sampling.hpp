// Next-token choice from logits: greedy (temperature 0) or sampled with temperature and top-k,
// reproducible from a seed.
#pragma once

#include <Eigen/Dense>

#include <cstdint>
#include <random>

namespace model {

struct SamplingOptions {
  double temperature = 0.0;  // 0 = greedy (argmax)
  int top_k = 0;             // 0 = the whole vocabulary
  std::uint64_t seed = 0;
};

int argmax(const Eigen::RowVectorXd& logits);

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& options);
  int next(const Eigen::RowVectorXd& logits);

 private:
  double uniform();  // [0, 1), from raw engine bits so every standard library draws the same

  SamplingOptions options_;
  std::mt19937_64 rng_;
};

}  // namespace model
