#include "kvcache/registry/policy_registry.hpp"

#include "kvcache/full_cache.hpp"
#include "kvcache/h2o.hpp"
#include "kvcache/keydiff.hpp"
#include "kvcache/mpcache_policy.hpp"
#include "kvcache/mustafar.hpp"
#include "kvcache/pyramidkv.hpp"
#include "kvcache/quest.hpp"
#include "kvcache/rpc.hpp"
#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/secure/secure_policies.hpp"
#include "kvcache/secure/secure_quest.hpp"
#include "kvcache/secure/secure_score_eviction.hpp"
#include "kvcache/snapkv.hpp"
#include "kvcache/streaming_llm.hpp"
#include "kvcache/tova.hpp"

#include <algorithm>
#include <stdexcept>

namespace kvcache {

namespace {

using SecureMaker = std::function<std::unique_ptr<secure::SecureCachePolicy>(protocols::ops::SecureOps&, const PolicyConfig&)>;

template <typename Policy>
std::unique_ptr<CachePolicy> plaintext(const PolicyConfig& config) {
  return std::make_unique<Policy>(config);
}

int keeps_all(const PolicyConfig&, int n) { return n; }

template <int (*Capacity)(const PolicyConfig&, int)>
int keeps_capacity(const PolicyConfig& config, int n) {
  return std::min(n, Capacity(config, n));
}

int streaming_llm_capacity(const PolicyConfig& c, int n) { return rules::streaming_llm_counts(c, n).capacity; }
int h2o_capacity(const PolicyConfig& c, int n) { return rules::h2o_counts(c, n).capacity; }
int tova_capacity(const PolicyConfig& c, int n) { return rules::tova_counts(c, n).capacity; }
int mpcache_capacity(const PolicyConfig& c, int n) { return rules::mpcache_static_counts(c, n).capacity; }

std::unique_ptr<secure::SecureCachePolicy> secure_full(protocols::ops::SecureOps&, const PolicyConfig&) {
  return std::make_unique<secure::SecureFullCache>();
}

SecureMaker secure_score_eviction(secure::ScoreRule rule) {
  return [rule](protocols::ops::SecureOps& ops, const PolicyConfig& config) {
    return std::make_unique<secure::SecureScoreEviction>(ops, rule, config);
  };
}

PolicyEntry mpcache_variant(std::string name, std::string summary, std::function<void(PolicyConfig&)> adjust) {
  PolicyEntry e;
  e.name = std::move(name);
  e.summary = std::move(summary);
  e.variant_of = "mpcache";
  e.adjust = std::move(adjust);
  return e;
}

std::vector<PolicyEntry> entries() {
  const auto secure_mpcache = [](protocols::ops::SecureOps& ops, const PolicyConfig& config) {
    return std::make_unique<secure::SecureMpcachePolicy>(ops, config);
  };
  std::vector<PolicyEntry> list = {
      {"full", "every token kept and attended", "", {}, [](const PolicyConfig&) { return std::make_unique<FullCachePolicy>(); },
       secure_full, SecurePrefill::OnShares, keeps_all},
      {"streamingllm", "attention sinks and a recent window", "", {}, plaintext<StreamingLlmPolicy>,
       [](protocols::ops::SecureOps&, const PolicyConfig& config) { return std::make_unique<secure::SecureStreamingLlm>(config); },
       SecurePrefill::OnShares, keeps_capacity<streaming_llm_capacity>},
      {"h2o", "heavy hitters by accumulated attention and a recent window", "", {}, plaintext<H2oPolicy>,
       secure_score_eviction(secure::ScoreRule::Accumulated), SecurePrefill::FromSource, keeps_capacity<h2o_capacity>},
      {"tova", "the token with the least current attention leaves", "", {}, plaintext<TovaPolicy>,
       secure_score_eviction(secure::ScoreRule::Current), SecurePrefill::FromSource, keeps_capacity<tova_capacity>},
      // Static only: on shares the rows it kept attend in full.
      {"snapkv", "observation-window votes at prefill", "", {}, plaintext<SnapKvPolicy>, secure_full,
       SecurePrefill::FromSource, keeps_capacity<rules::snapkv_capacity>},
      {"pyramidkv", "SnapKV with budgets shrinking over the layers", "", {}, plaintext<PyramidKvPolicy>, {},
       SecurePrefill::None, keeps_all},
      {"quest", "query-aware page selection", "", {}, plaintext<QuestPolicy>,
       [](protocols::ops::SecureOps& ops, const PolicyConfig& config) { return std::make_unique<secure::SecureQuest>(ops, config); },
       SecurePrefill::OnShares, keeps_all},
      {"keydiff", "keys least similar to the mean key kept", "", {}, plaintext<KeyDiffPolicy>, {}, SecurePrefill::None, keeps_all},
      {"rpc", "periodic compression of generated tokens", "", {}, plaintext<RpcPolicy>, {}, SecurePrefill::None, keeps_all},
      {"mustafar", "unstructured sparsity of each key/value row", "", {}, plaintext<MustafarPolicy>, {}, SecurePrefill::None,
       keeps_all},
      {"mpcache", "static eviction at prefill, hierarchical clustered selection, cross-layer sharing", "", {},
       plaintext<MpcachePolicy>, secure_mpcache, SecurePrefill::OnShares, keeps_capacity<mpcache_capacity>},
      mpcache_variant("mpcache-flat", "MPCache without level-1 clusters", [](PolicyConfig& c) { c.mpcache_level1_ratio = 1.0; }),
      mpcache_variant("mpcache-unshared", "MPCache without cross-layer index sharing",
                      [](PolicyConfig& c) { c.mpcache_share_interval = 1; }),
  };
  // A variant runs its base policy's makers with its own config.
  for (PolicyEntry& e : list) {
    if (e.variant_of.empty()) continue;
    const auto base = std::find_if(list.begin(), list.end(), [&](const PolicyEntry& b) { return b.name == e.variant_of; });
    e.make_plaintext = base->make_plaintext;
    e.make_secure = base->make_secure;
    e.secure_prefill = base->secure_prefill;
    e.prompt_rows_kept = [kept = base->prompt_rows_kept, adjust = e.adjust](PolicyConfig c, int n) {
      adjust(c);
      return kept(c, n);
    };
  }
  return list;
}

}  // namespace

PolicyConfig PolicyEntry::config_for(PolicyConfig config) const {
  if (adjust) adjust(config);
  return config;
}

const std::vector<PolicyEntry>& policy_registry() {
  static const std::vector<PolicyEntry> registry = entries();
  return registry;
}

const PolicyEntry& policy_entry(const std::string& name) {
  const auto& registry = policy_registry();
  const auto it = std::find_if(registry.begin(), registry.end(), [&](const PolicyEntry& e) { return e.name == name; });
  if (it != registry.end()) return *it;
  std::string known;
  for (const auto& e : registry) known += (known.empty() ? "" : ", ") + e.name;
  throw std::invalid_argument("unknown cache policy \"" + name + "\"; known: " + known);
}

std::unique_ptr<CachePolicy> make_policy(const std::string& name, const PolicyConfig& config) {
  const PolicyEntry& entry = policy_entry(name);
  const PolicyConfig adjusted = entry.config_for(config);
  validate(adjusted);
  return entry.make_plaintext(adjusted);
}

std::unique_ptr<secure::SecureCachePolicy> make_secure_policy(const std::string& name, protocols::ops::SecureOps& ops,
                                                              const PolicyConfig& config) {
  const PolicyEntry& entry = policy_entry(name);
  if (!entry.has_secure_form()) throw std::invalid_argument("the cache policy \"" + name + "\" has no secure form");
  const PolicyConfig adjusted = entry.config_for(config);
  validate(adjusted);
  return entry.make_secure(ops, adjusted);
}

std::vector<std::string> policy_names() {
  std::vector<std::string> names;
  for (const auto& e : policy_registry())
    if (e.variant_of.empty()) names.push_back(e.name);
  return names;
}

std::vector<std::string> secure_policy_names(SecurePrefill prefill, bool with_variants) {
  std::vector<std::string> names;
  for (const auto& e : policy_registry()) {
    if (!with_variants && !e.variant_of.empty()) continue;
    if (e.secure_prefill == SecurePrefill::OnShares || (prefill == SecurePrefill::FromSource && e.has_secure_form()))
      names.push_back(e.name);
  }
  return names;
}

}  // namespace kvcache
