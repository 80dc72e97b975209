#include "kvcache/secure/secure_policies.hpp"

#include "kvcache/mpcache_policy.hpp"
#include "kvcache/secure/secure_quest.hpp"
#include "kvcache/secure/secure_static_eviction.hpp"
#include "kvcache/secure/secure_score_eviction.hpp"
#include "net/operator_profile.hpp"
#include "protocols/ops/share_layout.hpp"

#include <numeric>
#include <stdexcept>
#include <string>

namespace kvcache::secure {

namespace {

namespace layout = protocols::ops;

std::vector<int> row_range(int first, int end) {
  std::vector<int> rows(static_cast<std::size_t>(std::max(0, end - first)));
  std::iota(rows.begin(), rows.end(), first);
  return rows;
}

net::ProfileScope profiled(protocols::ops::SecureOps& ops, const char* operator_class) {
  return net::ProfileScope(ops.protocol().mesh().profile(), operator_class);
}

}  // namespace

SecureStreamingLlm::SecureStreamingLlm(int sinks, int budget) : sinks_(sinks), budget_(budget) {
  if (budget < 1 || sinks < 0 || sinks >= budget)
    throw std::invalid_argument("streamingllm: need 0 <= sinks < budget, got sinks " + std::to_string(sinks) +
                                " and budget " + std::to_string(budget));
}

AttendingRows SecureStreamingLlm::attending(int, std::span<const Share>, const SecureLayerCache& cache) {
  const int rows = cache.rows();
  if (rows <= budget_) return {};
  AttendingRows out{.all = false};
  out.public_rows = row_range(0, sinks_);
  const std::vector<int> recent = row_range(rows - (budget_ - sinks_), rows);
  out.public_rows.insert(out.public_rows.end(), recent.begin(), recent.end());
  return out;
}

SecureMpcachePolicy::SecureMpcachePolicy(protocols::ops::SecureOps& ops, const PolicyConfig& config,
                                         const SecureModelShape& shape)
    : ops_(ops), config_(config), params_(ClusterSelectionParams::from(config)), shape_(shape), selector_(ops) {
  validate(config_);
  params_.validate();
  if (shape.kv_heads < 1 || shape.query_heads % shape.kv_heads != 0)
    throw std::invalid_argument("mpcache: query heads must be a multiple of the key/value heads");
}

bool SecureMpcachePolicy::selects_itself(int layer) const { return mpcache_selects_itself(layer, config_); }

void SecureMpcachePolicy::begin(int layers, int prompt_length) {
  prompt_length_ = prompt_length;
  boxes_.clear();
  boxes_.resize(static_cast<std::size_t>(layers));
  votes_.assign(static_cast<std::size_t>(layers), std::nullopt);
  selections_.assign(static_cast<std::size_t>(layers), std::nullopt);
}

void SecureMpcachePolicy::on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) {
  // Static eviction is applied by the cache source for adopted caches; on a private prefill it
  // votes with the window rows of the attention the prompt pass computed (generated tokens are
  // never statically evicted).
  if (prompt.empty()) return;
  if (prompt.heads() != shape_.query_heads)
    throw std::invalid_argument("mpcache: prompt attention of " + std::to_string(prompt.heads()) + " heads, expected " +
                                std::to_string(shape_.query_heads));
  const StaticEvictionParams params = static_eviction_params(prompt_length_, config_);
  if (params.capacity >= cache.rows()) return;
  const auto scope = profiled(ops_, kProfileEviction);
  votes_.at(static_cast<std::size_t>(layer)) = static_eviction_votes(ops_.protocol(), prompt, params.window);
}

void SecureMpcachePolicy::on_prefill_done(std::span<SecureLayerCache> layers) {
  if (layers.size() != boxes_.size())
    throw std::invalid_argument("mpcache: " + std::to_string(layers.size()) + " layers at the end of the prefill, " +
                                std::to_string(boxes_.size()) + " at its start");
  std::vector<Share> votes;
  std::vector<SecureLayerCache*> evicted;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    if (!votes_[l]) continue;
    votes.push_back(std::move(*votes_[l]));
    evicted.push_back(&layers[l]);
    votes_[l].reset();
  }
  if (!evicted.empty()) {
    const auto scope = profiled(ops_, kProfileEviction);
    secure_static_eviction(ops_, votes, shape_.query_heads, evicted, static_eviction_params(prompt_length_, config_));
  }
  build_boxes(layers);
}

// The boxes of every selecting layer, over the rows kept: from the box source (one input per
// layer), or computed from the secret keys for all those layers in the rounds of one layer.
void SecureMpcachePolicy::build_boxes(std::span<const SecureLayerCache> layers) {
  const auto scope = profiled(ops_, kProfileSelectionBoxes);
  std::vector<SecureClusterBoxes*> computed;
  std::vector<std::vector<Share>> keys;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    if (!selects_itself(static_cast<int>(l))) continue;
    auto& boxes = boxes_[l];
    boxes.emplace(ops_, params_, shape_.kv_heads, shape_.head_dim);
    if (box_source_) {
      box_source_(static_cast<int>(l), *boxes);
      continue;
    }
    computed.push_back(&*boxes);
    keys.emplace_back();
    for (const FixedOperand& k : layers[l].keys) keys.back().push_back(k.value.share());
  }
  if (!computed.empty()) SecureClusterBoxes::initialize_together(computed, keys);
  for (std::size_t l = 0; l < layers.size(); ++l) {
    if (boxes_[l] && boxes_[l]->rows() != layers[l].rows())
      throw std::logic_error("mpcache: the boxes of layer " + std::to_string(l) + " cover " +
                             std::to_string(boxes_[l]->rows()) + " rows, the cache holds " + std::to_string(layers[l].rows()));
  }
}

void SecureMpcachePolicy::on_append(int layer, std::span<const Share> key_rows, SecureLayerCache&) {
  auto& boxes = boxes_.at(static_cast<std::size_t>(layer));
  if (!boxes) return;
  const auto scope = profiled(ops_, kProfileSelectionBoxes);
  boxes->append(key_rows);
}

std::vector<Share> SecureMpcachePolicy::query_groups(std::span<const Share> queries) const {
  if (static_cast<int>(queries.size()) != shape_.query_heads)
    throw std::invalid_argument("mpcache: " + std::to_string(queries.size()) + " query heads, expected " +
                                std::to_string(shape_.query_heads));
  std::vector<Share> groups;
  for (int g = 0; g < shape_.kv_heads; ++g)
    groups.push_back(layout::concat_rows(queries.subspan(static_cast<std::size_t>(g * shape_.group()),
                                                         static_cast<std::size_t>(shape_.group()))));
  return groups;
}

AttendingRows SecureMpcachePolicy::attending(int layer, std::span<const Share> queries, const SecureLayerCache& cache) {
  auto& selection = selections_.at(static_cast<std::size_t>(layer));
  if (selects_itself(layer)) {
    const auto& boxes = boxes_.at(static_cast<std::size_t>(layer));
    if (!boxes) throw std::logic_error("mpcache: layer " + std::to_string(layer) + " has no cluster boxes (no prefill?)");
    selection = selector_.select(query_groups(queries), *boxes);
  } else {
    selection = selections_.at(static_cast<std::size_t>(layer - 1));
    if (!selection) throw std::logic_error("mpcache: layer " + std::to_string(layer) + " reuses a missing selection");
  }
  const ClusterSelectionShape& s = selection->shape;
  if (s.len != cache.rows())
    throw std::logic_error("mpcache: selection made for " + std::to_string(s.len) + " rows, the cache of layer " +
                           std::to_string(layer) + " holds " + std::to_string(cache.rows()));
  if (!s.selects) return {};
  AttendingRows out{.all = false, .group_size = s.size2, .chosen = selection->level2};
  out.public_rows = row_range(0, s.size2);
  const std::vector<int> newest = row_range(s.last_cluster() * s.size2, s.len);
  out.public_rows.insert(out.public_rows.end(), newest.begin(), newest.end());
  return out;
}

std::vector<std::string> secure_policy_names() { return {"full", "streamingllm", "h2o", "tova", "quest", "mpcache"}; }

std::unique_ptr<SecureCachePolicy> make_secure_policy(const std::string& name, protocols::ops::SecureOps& ops,
                                                      const PolicyConfig& config, const SecureModelShape& shape,
                                                      int budget_tokens) {
  if (name == "full") return std::make_unique<SecureFullCache>();
  if (name == "streamingllm") return std::make_unique<SecureStreamingLlm>(config.sinks, budget_tokens);
  if (name == "h2o" || name == "tova")
    return std::make_unique<SecureScoreEviction>(ops, name == "h2o" ? ScoreRule::Accumulated : ScoreRule::Current, config,
                                                 shape.kv_heads, shape.group(), budget_tokens);
  if (name == "quest")
    return std::make_unique<SecureQuest>(ops, config, shape.kv_heads, shape.group(), shape.head_dim, budget_tokens);
  if (name == "mpcache") return std::make_unique<SecureMpcachePolicy>(ops, config, shape);
  throw std::invalid_argument("unknown secure cache policy '" + name + "'");
}

}  // namespace kvcache::secure
