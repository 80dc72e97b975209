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

PolicyEntry mpcache_variant(std::string name, std::function<void(PolicyConfig&)> adjust) {
  PolicyEntry e;
  e.name = std::move(name);
  e.variant_of = "mpcache";
  e.adjust = std::move(adjust);
  return e;
}

std::vector<PolicyEntry> entries() {
  const auto secure_mpcache = [](protocols::ops::SecureOps& ops, const PolicyConfig& config) {
    return std::make_unique<secure::SecureMpcachePolicy>(ops, config);
  };
  const auto secure_streaming_llm = [](protocols::ops::SecureOps&, const PolicyConfig& config) {
    return std::make_unique<secure::SecureStreamingLlm>(config);
  };
  const auto secure_quest = [](protocols::ops::SecureOps& ops, const PolicyConfig& config) {
    return std::make_unique<secure::SecureQuest>(ops, config);
  };
  const auto full = [](const PolicyConfig&) { return std::make_unique<FullCachePolicy>(); };
  std::vector<PolicyEntry> list = {
      {"full", "", {}, full, secure_full, SecurePrefill::OnShares, keeps_all},
      {"streamingllm", "", {}, plaintext<StreamingLlmPolicy>, secure_streaming_llm, SecurePrefill::OnShares,
       keeps_capacity<streaming_llm_capacity>},
      {"h2o", "", {}, plaintext<H2oPolicy>, secure_score_eviction(secure::ScoreRule::Accumulated), SecurePrefill::FromSource,
       keeps_capacity<h2o_capacity>},
      {"tova", "", {}, plaintext<TovaPolicy>, secure_score_eviction(secure::ScoreRule::Current), SecurePrefill::FromSource,
       keeps_capacity<tova_capacity>},
      // Static only: on shares the rows it kept attend in full.
      {"snapkv", "", {}, plaintext<SnapKvPolicy>, secure_full, SecurePrefill::FromSource, keeps_capacity<rules::snapkv_capacity>},
      {"pyramidkv", "", {}, plaintext<PyramidKvPolicy>, {}, SecurePrefill::None, keeps_all},
      {"quest", "", {}, plaintext<QuestPolicy>, secure_quest, SecurePrefill::OnShares, keeps_all},
      {"keydiff", "", {}, plaintext<KeyDiffPolicy>, {}, SecurePrefill::None, keeps_all},
      {"rpc", "", {}, plaintext<RpcPolicy>, {}, SecurePrefill::None, keeps_all},
      {"mustafar", "", {}, plaintext<MustafarPolicy>, {}, SecurePrefill::None, keeps_all},
      {"mpcache", "", {}, plaintext<MpcachePolicy>, secure_mpcache, SecurePrefill::OnShares, keeps_capacity<mpcache_capacity>},
      mpcache_variant("mpcache-flat", [](PolicyConfig& c) { c.mpcache_level1_ratio = 1.0; }),      // no level-1 clusters
      mpcache_variant("mpcache-unshared", [](PolicyConfig& c) { c.mpcache_share_interval = 1; }),  // no index sharing
  };
  // A variant runs its base policy's makers with its own config.
  for (PolicyEntry& e : list) {
    if (e.variant_of.empty()) continue;
    const auto base = std::find_if(list.begin(), list.end(), [&](const PolicyEntry& b) { return b.name == e.variant_of; });
    e.make_plaintext = base->make_plaintext;
    e.make_secure = base->make_secure;
    e.secure_prefill = base->secure_prefill;
    e.prompt_rows_kept = base->prompt_rows_kept;
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
