// Builds a cache policy by name from a PolicyConfig, and exposes every PolicyConfig field as a
// command-line flag.
#pragma once

#include "kvcache/policy.hpp"
#include "kvcache/policy_config.hpp"

#include <memory>
#include <string>
#include <vector>

namespace CLI {
class App;
}

namespace kvcache {

// Names: full, streamingllm, h2o, tova, snapkv, pyramidkv, quest, keydiff, rpc, mustafar, mpcache.
// Throws std::invalid_argument for an unknown name or an invalid config.
std::unique_ptr<CachePolicy> make_policy(const std::string& name, const PolicyConfig& config);

std::vector<std::string> policy_names();

inline constexpr const char* kPolicyFlagGroup = "KV cache policy";

// Adds one flag per PolicyConfig field (e.g. --kv-budget-ratio, --mpcache-alpha), bound to `config`.
void add_policy_flags(CLI::App& app, PolicyConfig& config);

}  // namespace kvcache
