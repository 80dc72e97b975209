#include "kvcache/secure/secure_policies.hpp"

#include "kvcache/mpcache_policy.hpp"
#include "kvcache/selection_util.hpp"
#include "kvcache/secure/policy_checks.hpp"
#include "kvcache/secure/secure_quest.hpp"
#include "kvcache/secure/secure_static_eviction.hpp"
#include "kvcache/secure/secure_score_eviction.hpp"
#include "net/operator_profile.hpp"
#include "protocols/ops/share_layout.hpp"

#include <stdexcept>
#include <string>

namespace kvcache::secure {

namespace {

namespace layout = protocols::ops;

constexpr const char* kMpcache = "mpcache";

net::ProfileScope profiled(protocols::ops::SecureOps& ops, const char* operator_class) {
  return net::ProfileScope(ops.protocol().mesh().profile(), operator_class);
}

}  // namespace

SecureStreamingLlm::SecureStreamingLlm(const PolicyConfig& config) : config_(config) { validate(config_); }

void SecureStreamingLlm::begin(const ModelShape& shape, int prompt_length) {
  SecureCachePolicy::begin(shape, prompt_length);
  counts_ = rules::streaming_llm_counts(config_, prompt_length);
}

Selection SecureStreamingLlm::select(int, std::span<const Share>, const SecureLayerCache& cache) {
  if (cache.rows() <= counts_.capacity) return {};
  return Selection{.all = false, .public_rows = counts_.rows_of(cache.rows())};
}

SecureMpcachePolicy::SecureMpcachePolicy(protocols::ops::SecureOps& ops, const PolicyConfig& config)
    : ops_(ops), config_(config), params_(ClusterSelectionParams::from(config)), selector_(ops) {
  validate(config_);
  params_.validate();
}

void SecureMpcachePolicy::adopt_prompt_state(const PromptStateSource& source) {
  box_source_ = adopted_boxes(source, params_);
}

bool SecureMpcachePolicy::selects_itself(int layer) const { return mpcache_selects_itself(layer, config_); }

void SecureMpcachePolicy::begin(const ModelShape& shape, int prompt_length) {
  checks::expect_argument(shape.kv_heads >= 1 && shape.query_heads % shape.kv_heads == 0, kMpcache,
                          "query heads must be a multiple of the key/value heads");
  SecureCachePolicy::begin(shape, prompt_length);
  static_ = rules::mpcache_static_counts(config_, prompt_length);
  const int layers = shape.layers;
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
  checks::expect_count(kMpcache, "heads of prompt attention", prompt.heads(), shape_.query_heads);
  // Only the first layer of each sharing group votes: the group keeps its rows.
  if (static_.capacity >= cache.rows() || mpcache_sharing_leader(layer, config_) != layer) return;
  const auto scope = profiled(ops_, kProfileEviction);
  votes_.at(static_cast<std::size_t>(layer)) = static_eviction_votes(ops_.protocol(), prompt, static_.window);
}

void SecureMpcachePolicy::on_prefill_done(std::span<SecureLayerCache> layers) {
  checks::expect_count(kMpcache, "layers at the end of the prefill", static_cast<long long>(layers.size()),
                       static_cast<long long>(boxes_.size()));
  // Every layer keeps the rows its sharing group's first layer chooses (one top-k per group).
  std::vector<Share> votes;
  std::vector<int> vote_row_of_leader(layers.size(), -1), vote_of;
  std::vector<SecureLayerCache*> evicted;
  for (std::size_t l = 0; l < layers.size(); ++l) {
    const auto leader = static_cast<std::size_t>(mpcache_sharing_leader(static_cast<int>(l), config_));
    if (leader == l && votes_[l]) {
      vote_row_of_leader[l] = static_cast<int>(votes.size());
      votes.push_back(std::move(*votes_[l]));
      votes_[l].reset();
    }
    if (vote_row_of_leader[leader] < 0) continue;
    evicted.push_back(&layers[l]);
    vote_of.push_back(vote_row_of_leader[leader]);
  }
  if (!evicted.empty()) {
    const auto scope = profiled(ops_, kProfileEviction);
    secure_static_eviction(ops_, votes, shape_.query_heads, evicted, vote_of, static_);
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
    if (boxes_[l]) checks::expect_covers(kMpcache, "the boxes", static_cast<int>(l), boxes_[l]->rows(), layers[l].rows());
  }
}

void SecureMpcachePolicy::on_append(int layer, std::span<const Share> key_rows, SecureLayerCache&) {
  auto& boxes = boxes_.at(static_cast<std::size_t>(layer));
  if (!boxes) return;
  const auto scope = profiled(ops_, kProfileSelectionBoxes);
  boxes->append(key_rows);
}

std::vector<Share> SecureMpcachePolicy::query_groups(std::span<const Share> queries) const {
  checks::expect_count(kMpcache, "query heads", static_cast<long long>(queries.size()), shape_.query_heads);
  std::vector<Share> groups;
  for (int g = 0; g < shape_.kv_heads; ++g)
    groups.push_back(layout::concat_rows(queries.subspan(static_cast<std::size_t>(g * shape_.group()),
                                                         static_cast<std::size_t>(shape_.group()))));
  return groups;
}

Selection SecureMpcachePolicy::select(int layer, std::span<const Share> queries, const SecureLayerCache& cache) {
  auto& selection = selections_.at(static_cast<std::size_t>(layer));
  if (selects_itself(layer)) {
    const auto& boxes = boxes_.at(static_cast<std::size_t>(layer));
    checks::expect_state(boxes.has_value(), kMpcache, "layer " + std::to_string(layer) + " has no cluster boxes (no prefill?)");
    selection = selector_.select(query_groups(queries), *boxes);
  } else {
    selection = selections_.at(static_cast<std::size_t>(layer - 1));
    checks::expect_state(selection.has_value(), kMpcache, "layer " + std::to_string(layer) + " reuses a missing selection");
  }
  const ClusterSelectionShape& s = selection->shape;
  checks::expect_covers(kMpcache, "the selection", layer, s.len, cache.rows());
  if (!s.selects) return {};
  Selection out{.all = false, .group_size = s.size2, .chosen = selection->level2};
  out.public_rows = index_range(0, s.size2);
  const std::vector<int> newest = index_range(s.last_cluster() * s.size2, s.len);
  out.public_rows.insert(out.public_rows.end(), newest.begin(), newest.end());
  return out;
}

}  // namespace kvcache::secure
