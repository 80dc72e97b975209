#include "parties/policy_flags.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace parties {

void add_policy_flags(CLI::App& app, kvcache::PolicyConfig& c) {
  const std::string group = kPolicyFlagGroup;
  auto add = [&](const std::string& flag, auto& field, const std::string& help) {
    app.add_option(flag, field, help)->capture_default_str()->group(group);
  };
  add("--kv-budget-ratio", c.budget.ratio, "tokens kept/attended as a fraction of the prompt (used if --kv-budget-tokens is 0)");
  add("--kv-budget-tokens", c.budget.tokens, "tokens kept/attended as an absolute count (0: use the ratio)");
  add("--kv-sinks", c.sinks, "first tokens always kept (StreamingLLM, KeyDiff, MPCache)");
  add("--kv-recent-window", c.recent_window, "newest tokens always kept (H2O, KeyDiff)");
  app.add_flag("--kv-window-outside-budget", c.window_outside_budget,
               "count sinks and windows on top of the budget instead of inside it")->group(group);
  add("--kv-observation-window", c.observation_window, "SnapKV/PyramidKV/RPC observation window (prompt queries)");
  add("--kv-pooling-kernel", c.pooling_kernel, "SnapKV/PyramidKV/RPC pooling kernel (odd)");
  add("--kv-pooling", c.pooling, "SnapKV/PyramidKV/RPC pooling: avg or max");
  add("--pyramid-beta", c.pyramid_beta, "PyramidKV: top layer keeps (budget - window) / beta");
  add("--quest-page-size", c.page_size, "Quest page size");
  add("--rpc-period", c.rpc_period, "RPC: compress every P generated tokens");
  add("--rpc-selector-window", c.rpc_selector_window, "RPC: last R queries score the generated tokens");
  add("--rpc-keep-fraction", c.rpc_keep_fraction, "RPC: fraction of the scored generated tokens kept");
  add("--mustafar-sparsity", c.mustafar_sparsity, "MUSTAFAR: fraction of each K/V row pruned");
  add("--mustafar-dense-window", c.mustafar_dense_window, "MUSTAFAR: newest tokens kept dense");
  add("--mpcache-alpha", c.mpcache_alpha, "MPCache: score q.(a*max + (1-a)*min)");
  add("--mpcache-cluster-size1", c.mpcache_cluster_size1, "MPCache: level-1 cluster size");
  add("--mpcache-cluster-size2", c.mpcache_cluster_size2, "MPCache: level-2 cluster size");
  add("--mpcache-level1-ratio", c.mpcache_level1_ratio, "MPCache: fraction of level-1 clusters kept");
  add("--mpcache-dyn-ratio", c.mpcache_dyn_ratio, "MPCache: fraction of level-2 clusters attended");
  add("--mpcache-static-ratio", c.mpcache_static_ratio, "MPCache: fraction of the prompt kept at prefill");
  add("--mpcache-observation-ratio", c.mpcache_observation_ratio, "MPCache: observation window, fraction of the prompt");
  add("--mpcache-recent", c.mpcache_recent, "MPCache: newest prompt tokens static eviction always keeps");
  add("--mpcache-share-interval", c.mpcache_share_interval, "MPCache: layers sharing one dynamic selection");
  add("--mpcache-share-skip-layers", c.mpcache_share_skip_layers, "MPCache: first layers that never share");
}

}  // namespace parties
