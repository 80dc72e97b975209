// Turns one budget ratio of a sweep into the hyperparameters of a given cache policy.
//
// The budget is a fraction of the prompt length. Most policies read it directly (tokens kept, or
// tokens attended for Quest). Two policies have no token budget of their own:
//  - MPCache: the budget is the fraction of the prompt ATTENDED at each decode step, split into
//    static eviction (kept fraction s) and dynamic selection (fraction d of the kept clusters) with
//    s * d = budget. d stays at the configured mpcache_dyn_ratio while s <= 1; above that s = 1 and
//    d = budget (the level-1 ratio is raised to d so that level 2 can reach it). Cluster
//    granularity and the always-selected first/newest clusters make the measured attended count
//    differ from the nominal one, which is why the evaluation reports the measured count.
//  - MUSTAFAR: no token is evicted; the budget is the fraction of each pruned K/V row kept
//    (sparsity = 1 - budget).
#pragma once

#include "kvcache/policy_config.hpp"

#include <string>

namespace eval {

// Throws std::invalid_argument when `budget_ratio` is not in (0, 1].
kvcache::PolicyConfig config_for_budget(const std::string& policy, const kvcache::PolicyConfig& base,
                                        double budget_ratio);

}  // namespace eval
