// The one list of cache policies: for each, its name, how to make its plaintext form, how to make
// its secure form (or that it has none), what its secure form needs from the prompt, and the rows
// its prompt-time rule keeps. Every list of policy names the tools accept comes from here.
#pragma once

#include "kvcache/policy.hpp"
#include "kvcache/policy_config.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "protocols/ops/secure_ops.hpp"

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace kvcache {

// How the secure form of a policy can start.
enum class SecurePrefill {
  None,        // no secure form
  OnShares,    // its prompt-time work runs on shares: from a private prefill or an adopted cache
  FromSource,  // it needs a plaintext cache source to cut the prompt (parties/decode_bench_job)
};

struct PolicyEntry {
  std::string name;
  // Settings of another policy's ablation (e.g. MPCache without its level-1 clusters): the entry
  // is that policy run with its config adjusted; empty for a policy of its own.
  std::string variant_of;
  std::function<void(PolicyConfig&)> adjust;
  std::function<std::unique_ptr<CachePolicy>(const PolicyConfig&)> make_plaintext;
  std::function<std::unique_ptr<secure::SecureCachePolicy>(protocols::ops::SecureOps&, const PolicyConfig&)> make_secure;
  SecurePrefill secure_prefill = SecurePrefill::None;
  // Rows of a prompt of n tokens that the prompt-time rule keeps (n when it evicts nothing then),
  // given the config the policy is made with.
  std::function<int(const PolicyConfig&, int n)> prompt_rows_kept;

  bool has_secure_form() const { return secure_prefill != SecurePrefill::None; }
  // The config this entry runs with (the variant's adjustment applied).
  PolicyConfig config_for(PolicyConfig config) const;
  // The rows the plaintext form keeps of a prompt of n tokens under `config`, as make_policy makes it.
  int rows_kept(const PolicyConfig& config, int n) const { return prompt_rows_kept(config_for(config), n); }
};

const std::vector<PolicyEntry>& policy_registry();
// Throws std::invalid_argument naming the known policies for an unknown name.
const PolicyEntry& policy_entry(const std::string& name);

// The plaintext policy `name` (its variant's adjustment applied); validates the config.
std::unique_ptr<CachePolicy> make_policy(const std::string& name, const PolicyConfig& config);
// The secure policy `name`; throws std::invalid_argument when it has no secure form.
std::unique_ptr<secure::SecureCachePolicy> make_secure_policy(const std::string& name, protocols::ops::SecureOps& ops,
                                                              const PolicyConfig& config);

// Names, in registry order: the policies of their own (the plaintext study's list) ...
std::vector<std::string> policy_names();
// ... those and the variants whose secure form can start as `prefill` says (`FromSource`
// includes the `OnShares` ones: a plaintext source serves them too).
std::vector<std::string> secure_policy_names(SecurePrefill prefill, bool with_variants);

}  // namespace kvcache
