#include "eval/budget_mapping.hpp"

#include <algorithm>
#include <stdexcept>

namespace eval {

namespace {

void apply_mpcache_budget(kvcache::PolicyConfig& config, double budget_ratio) {
  const double dynamic = config.mpcache_dyn_ratio;
  if (budget_ratio <= dynamic) {
    // Below the dynamic ratio the product s * d can keep d and shrink static eviction.
    config.mpcache_static_ratio = std::min(1.0, budget_ratio / dynamic);
    return;
  }
  config.mpcache_static_ratio = 1.0;
  config.mpcache_dyn_ratio = budget_ratio;
  config.mpcache_level1_ratio = std::max(config.mpcache_level1_ratio, budget_ratio);
}

}  // namespace

kvcache::PolicyConfig config_for_budget(const std::string& policy, const kvcache::PolicyConfig& base,
                                        double budget_ratio) {
  if (!(budget_ratio > 0.0 && budget_ratio <= 1.0))
    throw std::invalid_argument("budget ratio must be in (0, 1], got " + std::to_string(budget_ratio));
  kvcache::PolicyConfig config = base;
  config.budget = kvcache::Budget{budget_ratio, 0};
  if (policy == "mpcache") apply_mpcache_budget(config, budget_ratio);
  if (policy == "mustafar") config.mustafar_sparsity = 1.0 - budget_ratio;
  kvcache::validate(config);
  return config;
}

}  // namespace eval
