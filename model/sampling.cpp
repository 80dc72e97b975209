#include "model/sampling.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <vector>

namespace model {

int argmax(const Eigen::RowVectorXd& logits) {
  if (logits.size() == 0) throw std::invalid_argument("argmax of empty logits");
  Eigen::Index best = 0;
  logits.maxCoeff(&best);
  return static_cast<int>(best);
}

Sampler::Sampler(const SamplingOptions& options) : options_(options), rng_(options.seed) {
  if (!(options.temperature >= 0.0) || !std::isfinite(options.temperature))
    throw std::invalid_argument("temperature must be a finite number >= 0");
  if (options.top_k < 0) throw std::invalid_argument("top-k must be >= 0");
}

double Sampler::uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }

int Sampler::next(const Eigen::RowVectorXd& logits) {
  if (options_.temperature == 0.0) return argmax(logits);
  const int n = static_cast<int>(logits.size());
  if (n == 0) throw std::invalid_argument("sampling from empty logits");
  const int k = options_.top_k > 0 ? std::min(options_.top_k, n) : n;
  std::vector<int> order(n);
  std::iota(order.begin(), order.end(), 0);
  // Ties broken by id so the candidate set never depends on the sort implementation.
  std::partial_sort(order.begin(), order.begin() + k, order.end(),
                    [&](int a, int b) { return logits[a] != logits[b] ? logits[a] > logits[b] : a < b; });
  std::vector<double> weights(k);
  for (int i = 0; i < k; ++i) weights[i] = std::exp((logits[order[i]] - logits[order[0]]) / options_.temperature);
  double target = uniform() * std::accumulate(weights.begin(), weights.end(), 0.0);
  for (int i = 0; i < k; ++i) {
    target -= weights[i];
    if (target < 0) return order[i];
  }
  return order[k - 1];
}

}  // namespace model
