#include "kvcache/pyramidkv.hpp"

#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/selection_util.hpp"
#include "kvcache/snapkv.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kvcache {

std::vector<int> pyramid_layer_budgets(const PolicyConfig& config, int layers, int prompt_length) {
  if (layers <= 0) throw std::invalid_argument("pyramidkv: the model must have at least one layer");
  const int capacity = rules::snapkv_capacity(config, prompt_length);
  const int window = std::clamp(config.observation_window, 1, capacity);
  const int spread = capacity - window;  // the part of each layer's budget outside the window
  if (layers == 1 || spread == 0) return std::vector<int>(static_cast<std::size_t>(layers), capacity);
  const double low = spread / config.pyramid_beta;
  const double high = 2.0 * spread - low;
  const double step = (high - low) / (layers - 1);
  std::vector<int> budgets(static_cast<std::size_t>(layers));
  long long assigned = 0;
  for (int l = 0; l < layers; ++l) {
    budgets[l] = static_cast<int>(std::floor(high - l * step + 1e-9));
    assigned += budgets[l];
  }
  for (int l = 0; assigned < static_cast<long long>(spread) * layers; l = (l + 1) % layers, ++assigned) ++budgets[l];
  for (int& b : budgets) b = std::min(b + window, prompt_length);
  return budgets;
}

void PyramidKvPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  budgets_ = pyramid_layer_budgets(config_, shape.layers, prompt_length);
}

void PyramidKvPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  check_queries(queries, shape_, "pyramidkv");
  const int capacity = budgets_.at(layer);
  for (int g = 0; g < cache.kv_heads(); ++g) {
    cache.heads[g].keep(snapkv_keep_rows(queries, cache.heads[g], g, shape_, capacity, config_));
  }
}

}  // namespace kvcache
