#include "kvcache/secure/secure_quest.hpp"

#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/secure/policy_checks.hpp"
#include "kvcache/secure/selection_score_bits.hpp"
#include "net/operator_profile.hpp"
#include "protocols/ops/share_layout.hpp"

#include <algorithm>
#include <numeric>
#include <stdexcept>
#include <string>

namespace kvcache::secure {

namespace {

using mpc::RingMatrix;
using mpc::u64;
using protocols::Protocol;
namespace layout = protocols::ops;

constexpr const char* kQuest = "quest";

ClusterSelectionParams page_params_of(const PolicyConfig& config) {
  ClusterSelectionParams params;
  params.size1 = params.size2 = config.page_size;
  return params;
}

net::ProfileScope profiled(protocols::ops::SecureOps& ops, const char* operator_class) {
  return net::ProfileScope(ops.protocol().mesh().profile(), operator_class);
}

}  // namespace

SecureQuest::SecureQuest(protocols::ops::SecureOps& ops, const PolicyConfig& config)
    : ops_(ops), config_(config), params_(page_params_of(config)) {
  validate(config_);
}

const SecureClusterBoxes& SecureQuest::boxes(int layer) const {
  const auto& b = boxes_.at(static_cast<std::size_t>(layer));
  checks::expect_state(b.has_value(), kQuest, "layer " + std::to_string(layer) + " has no page boxes (no prefill?)");
  return *b;
}

void SecureQuest::begin(const ModelShape& shape, int prompt_length) {
  checks::expect_argument(shape.layers >= 1 && shape.kv_heads >= 1 && shape.query_heads >= shape.kv_heads && shape.head_dim >= 1,
                          kQuest, "need at least one layer, key/value head, query head per group and channel");
  SecureCachePolicy::begin(shape, prompt_length);
  page_budget_ = rules::quest_page_budget(config_, prompt_length);
  boxes_.clear();
  boxes_.resize(static_cast<std::size_t>(shape.layers));
}

void SecureQuest::adopt_prompt_state(const PromptStateSource& source) { box_source_ = adopted_boxes(source, params_); }

void SecureQuest::on_prefill(int layer, const PromptAttention&, SecureLayerCache& cache) {
  checks::expect_count(kQuest, "key/value heads in the cache", cache.kv_heads(), shape_.kv_heads);
  const auto scope = profiled(ops_, kProfileSelectionBoxes);
  auto& boxes = boxes_.at(static_cast<std::size_t>(layer));
  boxes.emplace(ops_, params_, shape_.kv_heads, shape_.head_dim, box_options());
  if (box_source_) {
    box_source_(layer, *boxes);
  } else {
    std::vector<Share> keys;
    for (const FixedOperand& k : cache.keys) keys.push_back(k.value.share());
    boxes->initialize(keys);
  }
  checks::expect_covers(kQuest, "the page boxes", layer, boxes->rows(), cache.rows());
}

void SecureQuest::on_append(int layer, std::span<const Share> key_rows, SecureLayerCache&) {
  auto& boxes = boxes_.at(static_cast<std::size_t>(layer));
  checks::expect_state(boxes.has_value(), kQuest, "layer " + std::to_string(layer) + " has no page boxes (no prefill?)");
  const auto scope = profiled(ops_, kProfileSelectionBoxes);
  boxes->append(key_rows);
}

// Per key/value head, the bounds (1 x competing, fixed point) of the first `competing` pages.
std::vector<Share> SecureQuest::page_bounds(std::span<const Share> queries, const SecureClusterBoxes& boxes,
                                            int competing) {
  const auto scope = profiled(ops_, kProfileSelectionScores);
  Protocol& p = ops_.protocol();
  const Share all_queries = layout::concat_rows(queries);  // query heads x d
  const Share positive = ops_.relu(all_queries);
  const Share negative = p.sub(all_queries, positive);
  auto group_sum = [&](const Share& per_head, int g) {
    return p.public_matmul(RingMatrix::Ones(1, shape_.group()), layout::rows_of(per_head, Eigen::Index{g} * shape_.group(), shape_.group()));
  };
  std::vector<Share> summed;
  std::vector<const FixedOperand*> bounds;
  for (int g = 0; g < shape_.kv_heads; ++g) {
    summed.push_back(group_sum(positive, g));
    bounds.push_back(&boxes.max2(g));
  }
  for (int g = 0; g < shape_.kv_heads; ++g) {
    summed.push_back(group_sum(negative, g));
    bounds.push_back(&boxes.min2(g));
  }
  const std::vector<Share> products = p.matmul_fixed_transposed(summed, bounds);
  std::vector<Share> sums;
  for (int g = 0; g < shape_.kv_heads; ++g)
    sums.push_back(layout::columns(p.add(products[g], products[shape_.kv_heads + g]), 0, competing));
  return p.truncate(sums, p.fixed_point().frac_bits());
}

Selection SecureQuest::select(int layer, std::span<const Share> queries, const SecureLayerCache& cache) {
  checks::expect_head_rows(kQuest, "query heads", queries, shape_.query_heads, shape_.head_dim);
  const SecureClusterBoxes& pages = boxes(layer);
  const int rows = cache.rows(), size = page_size();
  checks::expect_covers(kQuest, "the page boxes", layer, pages.rows(), rows);
  const int count = (rows + size - 1) / size;  // pages, the newest possibly partial
  if (count <= page_budget_) return {};
  const int competing = count - 1, chosen = page_budget_ - 1;  // the current page always attends
  Selection out;
  out.all = false;
  out.group_size = size;
  out.public_rows.resize(static_cast<std::size_t>(rows - competing * size));
  std::iota(out.public_rows.begin(), out.public_rows.end(), competing * size);
  if (chosen == 0) return out;
  const std::vector<Share> bounds = page_bounds(queries, pages, competing);
  const auto scope = profiled(ops_, kProfileSelectionTopK);
  Protocol& p = ops_.protocol();
  // Equal bounds go to the lower page, like the plaintext Quest.
  const std::vector<Share> one_hots =
      ops_.top_k(layout::concat_rows(bounds), chosen, selection_value_bits(p.fixed_point().frac_bits()));
  // The engine's groups are the complete pages: a complete current page is a group never chosen.
  const int groups = rows / size;
  for (const Share& one_hot : one_hots) {
    if (groups == competing) {
      out.chosen.push_back(one_hot);
    } else {
      const Share parts[] = {one_hot, layout::zeros(p, chosen, groups - competing)};
      out.chosen.push_back(layout::concat_columns(parts));
    }
  }
  return out;
}

}  // namespace kvcache::secure
