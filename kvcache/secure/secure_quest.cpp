#include "kvcache/secure/secure_quest.hpp"

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

ClusterSelectionParams page_params_of(const PolicyConfig& config) {
  ClusterSelectionParams params;
  params.size1 = params.size2 = config.page_size;
  return params;
}

net::ProfileScope profiled(protocols::ops::SecureOps& ops, const char* operator_class) {
  return net::ProfileScope(ops.protocol().mesh().profile(), operator_class);
}

}  // namespace

SecureQuest::SecureQuest(protocols::ops::SecureOps& ops, const PolicyConfig& config, int kv_heads, int group,
                         int head_dim, int budget)
    : ops_(ops), params_(page_params_of(config)), kv_heads_(kv_heads), group_(group), head_dim_(head_dim) {
  validate(config);
  if (kv_heads < 1 || group < 1 || head_dim < 1)
    throw std::invalid_argument("quest: need at least one key/value head, one query head per group and one channel");
  if (budget < 1) throw std::invalid_argument("quest: the token budget must be positive, got " + std::to_string(budget));
  page_budget_ = std::max(1, budget / config.page_size) + (config.window_outside_budget ? 1 : 0);
}

const SecureClusterBoxes& SecureQuest::boxes(int layer) const {
  const auto& b = boxes_.at(static_cast<std::size_t>(layer));
  if (!b) throw std::logic_error("quest: layer " + std::to_string(layer) + " has no page boxes (no prefill?)");
  return *b;
}

void SecureQuest::begin(int layers, int) {
  if (layers < 1) throw std::invalid_argument("quest: need at least one layer");
  boxes_.clear();
  boxes_.resize(static_cast<std::size_t>(layers));
}

void SecureQuest::on_prefill(int layer, const PromptAttention&, SecureLayerCache& cache) {
  if (cache.kv_heads() != kv_heads_)
    throw std::invalid_argument("quest: cache has " + std::to_string(cache.kv_heads()) + " heads, expected " +
                                std::to_string(kv_heads_));
  const auto scope = profiled(ops_, kProfileSelectionBoxes);
  auto& boxes = boxes_.at(static_cast<std::size_t>(layer));
  boxes.emplace(ops_, params_, kv_heads_, head_dim_, box_options());
  if (box_source_) {
    box_source_(layer, *boxes);
  } else {
    std::vector<Share> keys;
    for (const FixedOperand& k : cache.keys) keys.push_back(k.value.share());
    boxes->initialize(keys);
  }
  if (boxes->rows() != cache.rows())
    throw std::logic_error("quest: the page boxes of layer " + std::to_string(layer) + " cover " +
                           std::to_string(boxes->rows()) + " rows, the cache holds " + std::to_string(cache.rows()));
}

void SecureQuest::on_append(int layer, std::span<const Share> key_rows, SecureLayerCache&) {
  auto& boxes = boxes_.at(static_cast<std::size_t>(layer));
  if (!boxes) throw std::logic_error("quest: layer " + std::to_string(layer) + " has no page boxes (no prefill?)");
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
    return p.public_matmul(RingMatrix::Ones(1, group_), layout::rows_of(per_head, Eigen::Index{g} * group_, group_));
  };
  std::vector<Share> summed;
  std::vector<const FixedOperand*> bounds;
  for (int g = 0; g < kv_heads_; ++g) {
    summed.push_back(group_sum(positive, g));
    bounds.push_back(&boxes.max2(g));
  }
  for (int g = 0; g < kv_heads_; ++g) {
    summed.push_back(group_sum(negative, g));
    bounds.push_back(&boxes.min2(g));
  }
  const std::vector<Share> products = p.matmul_fixed_transposed(summed, bounds);
  std::vector<Share> sums;
  for (int g = 0; g < kv_heads_; ++g)
    sums.push_back(layout::columns(p.add(products[g], products[kv_heads_ + g]), 0, competing));
  return p.truncate(sums, p.fixed_point().frac_bits());
}

AttendingRows SecureQuest::attending(int layer, std::span<const Share> queries, const SecureLayerCache& cache) {
  if (static_cast<int>(queries.size()) != kv_heads_ * group_)
    throw std::invalid_argument("quest: " + std::to_string(queries.size()) + " query heads, expected " +
                                std::to_string(kv_heads_ * group_));
  for (const Share& q : queries) {
    if (q.rows() != 1 || q.cols() != head_dim_)
      throw std::invalid_argument("quest: queries must be 1 x " + std::to_string(head_dim_) + " per query head");
  }
  const SecureClusterBoxes& pages = boxes(layer);
  const int rows = cache.rows(), size = page_size();
  if (pages.rows() != rows)
    throw std::logic_error("quest: the page boxes of layer " + std::to_string(layer) + " cover " +
                           std::to_string(pages.rows()) + " rows, the cache holds " + std::to_string(rows));
  const int count = (rows + size - 1) / size;  // pages, the newest possibly partial
  if (count <= page_budget_) return {};
  const int competing = count - 1, chosen = page_budget_ - 1;  // the current page always attends
  AttendingRows out;
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
