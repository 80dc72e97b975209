#include "kvcache/policy_config.hpp"

#include <sstream>

#include <stdexcept>
#include <string>

namespace kvcache {

namespace {

void require(bool ok, const std::string& field, const std::string& rule) {
  if (!ok) throw std::invalid_argument("cache policy config: " + field + " " + rule);
}

void require_ratio(double value, const std::string& field) {
  require(value > 0.0 && value <= 1.0, field, "must be in (0, 1], got " + std::to_string(value));
}

void require_positive(int value, const std::string& field) {
  require(value > 0, field, "must be positive, got " + std::to_string(value));
}

void require_non_negative(int value, const std::string& field) {
  require(value >= 0, field, "must not be negative, got " + std::to_string(value));
}

}  // namespace

void validate(const PolicyConfig& c) {
  require_non_negative(c.budget.tokens, "budget tokens");
  if (c.budget.tokens == 0) require_ratio(c.budget.ratio, "budget ratio");
  require_non_negative(c.sinks, "sinks");
  require_non_negative(c.recent_window, "recent_window");
  require_positive(c.observation_window, "observation_window");
  require(c.pooling_kernel > 0 && c.pooling_kernel % 2 == 1, "pooling_kernel",
          "must be odd and positive, got " + std::to_string(c.pooling_kernel));
  require(c.pooling == "avg" || c.pooling == "max", "pooling", "must be \"avg\" or \"max\", got \"" + c.pooling + "\"");
  require(c.pyramid_beta >= 1.0, "pyramid_beta", "must be >= 1, got " + std::to_string(c.pyramid_beta));
  require_positive(c.page_size, "page_size");
  require_positive(c.rpc_period, "rpc_period");
  require_positive(c.rpc_selector_window, "rpc_selector_window");
  require_ratio(c.rpc_keep_fraction, "rpc_keep_fraction");
  require(c.mustafar_sparsity >= 0.0 && c.mustafar_sparsity < 1.0, "mustafar_sparsity",
          "must be in [0, 1), got " + std::to_string(c.mustafar_sparsity));
  require_non_negative(c.mustafar_dense_window, "mustafar_dense_window");
  require(c.mpcache_alpha >= 0.0 && c.mpcache_alpha <= 1.0, "mpcache_alpha",
          "must be in [0, 1], got " + std::to_string(c.mpcache_alpha));
  require_positive(c.mpcache_cluster_size1, "mpcache_cluster_size1");
  require_positive(c.mpcache_cluster_size2, "mpcache_cluster_size2");
  require(c.mpcache_cluster_size1 % c.mpcache_cluster_size2 == 0, "mpcache_cluster_size1",
          "must be a multiple of mpcache_cluster_size2");
  require_ratio(c.mpcache_level1_ratio, "mpcache_level1_ratio");
  require_ratio(c.mpcache_dyn_ratio, "mpcache_dyn_ratio");
  require_ratio(c.mpcache_static_ratio, "mpcache_static_ratio");
  require_ratio(c.mpcache_observation_ratio, "mpcache_observation_ratio");
  require_non_negative(c.mpcache_recent, "mpcache_recent");
  require_positive(c.mpcache_share_interval, "mpcache_share_interval");
  require_non_negative(c.mpcache_share_skip_layers, "mpcache_share_skip_layers");
}

int total_budget(const PolicyConfig& config, int prompt_length, int extras) {
  return config.budget.resolve(prompt_length) + (config.window_outside_budget ? extras : 0);
}

std::string describe(const PolicyConfig& c) {
  std::ostringstream out;
  out << "budget " << c.budget.ratio << "/" << c.budget.tokens << " sinks " << c.sinks << " recent " << c.recent_window
      << " outside " << c.window_outside_budget << " observation " << c.observation_window << " pooling "
      << c.pooling_kernel << c.pooling << " beta " << c.pyramid_beta << " page " << c.page_size << " rpc " << c.rpc_period
      << "/" << c.rpc_selector_window << "/" << c.rpc_keep_fraction << " mustafar " << c.mustafar_sparsity << "/"
      << c.mustafar_dense_window << " mpcache " << c.mpcache_alpha << "/" << c.mpcache_cluster_size1 << "/"
      << c.mpcache_cluster_size2 << "/" << c.mpcache_level1_ratio << "/" << c.mpcache_dyn_ratio << "/"
      << c.mpcache_static_ratio << "/" << c.mpcache_observation_ratio << "/" << c.mpcache_recent << "/" << c.mpcache_share_interval << "/"
      << c.mpcache_share_skip_layers;
  return out.str();
}

}  // namespace kvcache
