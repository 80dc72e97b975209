// The command-line flags of the cache policies: every PolicyConfig field as a flag, shared by
// every command that runs a policy (generate, eval, demo, party, bench-decode).
#pragma once

#include "kvcache/policy_config.hpp"

namespace CLI {
class App;
}

namespace parties {

inline constexpr const char* kPolicyFlagGroup = "KV cache policy";

// Adds one flag per PolicyConfig field (e.g. --kv-budget-ratio, --mpcache-alpha), bound to `config`.
void add_policy_flags(CLI::App& app, kvcache::PolicyConfig& config);

}  // namespace parties
