// Every hyperparameter of every plaintext cache policy, with the defaults used throughout.
// Budget convention: a policy's budget counts ALL tokens it keeps (or attends), the attention sinks
// and the recent / observation window included, unless `window_outside_budget` is set, in which
// case sinks and windows come on top of the budget.
#pragma once

#include "kvcache/policy.hpp"

#include <string>

namespace kvcache {

struct PolicyConfig {
  Budget budget{0.2, 0};               // tokens kept (eviction policies) or attended (Quest)
  int sinks = 4;                       // first tokens always kept (StreamingLLM, KeyDiff, MPCache)
  int recent_window = 16;              // newest tokens always kept (H2O, KeyDiff)
  bool window_outside_budget = false;  // sinks/windows on top of the budget instead of inside it

  // SnapKV / PyramidKV / the prompt part of RPC
  int observation_window = 32;         // last prompt queries that vote
  int pooling_kernel = 5;              // odd 1-D pooling kernel over the votes
  std::string pooling = "avg";         // "avg" or "max"
  double pyramid_beta = 20.0;          // PyramidKV: top layer gets (budget - window) / beta

  int page_size = 16;                  // Quest

  int rpc_period = 4096;               // RPC: compress every P generated tokens
  int rpc_selector_window = 32;        // RPC: last R queries score the generated tokens
  double rpc_keep_fraction = 0.25;     // RPC: fraction of the scored generated tokens kept

  double mustafar_sparsity = 0.5;      // MUSTAFAR: fraction of each K/V row pruned
  int mustafar_dense_window = 32;      // MUSTAFAR: newest tokens kept dense

  double mpcache_alpha = 0.6;              // score q . (a*max + (1-a)*min)
  int mpcache_cluster_size1 = 32;          // level-1 cluster size
  int mpcache_cluster_size2 = 16;          // level-2 cluster size (divides the level-1 size)
  double mpcache_level1_ratio = 0.5;       // fraction of level-1 clusters kept
  double mpcache_dyn_ratio = 0.2;          // fraction of level-2 clusters attended
  double mpcache_static_ratio = 0.3;       // fraction of the prompt kept by static eviction
  double mpcache_observation_ratio = 0.2;  // observation window as a fraction of the prompt
  int mpcache_recent = 32;                 // newest prompt rows static eviction always keeps
  int mpcache_share_interval = 2;          // a layer group of this size shares one selection
  int mpcache_share_skip_layers = 2;       // the first layers always select for themselves
};

// Throws std::invalid_argument naming the offending field.
void validate(const PolicyConfig& config);

// Every field as one string: parties compare it at the handshake, since all of them must run the
// same policy program.
std::string describe(const PolicyConfig& config);

}  // namespace kvcache

namespace kvcache {

// Tokens a policy may keep for a prompt of `prompt_length`: the resolved budget, plus `extras`
// (the policy's sinks and windows) when they sit outside the budget.
int total_budget(const PolicyConfig& config, int prompt_length, int extras);

}  // namespace kvcache
