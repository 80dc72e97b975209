// Quest on secret shares (plaintext reference: kvcache/quest.hpp), with the exact upper bound.
// Keys are grouped in pages of `page_size` rows; every complete page keeps its per-channel max M
// and min m as fixed operands (SecureClusterBoxes with BoxOptions{.centres = false,
// .level2_bounds = true}). At every decode step, per key/value head, page p's score is the bound
//   sum over the group's query heads h of sum_c max(q_hc * M_pc, q_hc * m_pc),
// the top pages attend (secret one-hot of pages), and the current (newest) page always attends as
// public rows. Page counts are public: max(1, B / page_size) pages (+1 with window_outside_budget),
// the current one included, like the plaintext policy; a cache of no more pages attends in full.
//
// Cost of a selection, every head in the same rounds. Since M >= m, max(q*M, q*m) is q*M for
// q >= 0 and q*m otherwise, so with q+ = relu(q) and q- = q - q+ (exact in the ring) the bound is
//   M . (sum_h q_h+) + m . (sum_h q_h-):
//  - one ReLU over the query heads' d channels (a comparison per channel, not per page and channel);
//  - one matmul_fixed_transposed round (only the two summed query rows are opened) + one truncation;
//  - SecureOps::top_k over the competing pages, ordering keys as in secure_cluster_selection.hpp
//    (equal bounds go to the lower page).
// Box upkeep: one comparison batch per appended row; the bounds of a completed page are masked once.
#pragma once

#include "kvcache/policy_config.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "kvcache/secure/secure_cluster_boxes.hpp"

#include <functional>
#include <optional>
#include <span>
#include <vector>

namespace kvcache::secure {

class SecureQuest final : public SecureCachePolicy {
 public:
  SecureQuest(protocols::ops::SecureOps& ops, const PolicyConfig& config);
  std::string name() const override { return "quest"; }

  int page_size() const { return params_.size2; }
  // Pages that attend once the cache has more, the current page included (rules::quest_page_budget).
  int page_budget() const { return page_budget_; }
  // The page parameters for SecureClusterBoxes (size1 == size2 == page size).
  const ClusterSelectionParams& page_params() const { return params_; }
  static BoxOptions box_options() { return BoxOptions{.centres = false, .level2_bounds = true}; }
  const SecureClusterBoxes& boxes(int layer) const;

  void begin(const ModelShape& shape, int prompt_length) override;
  // Takes the plaintext source's page boxes instead of computing them.
  void adopt_prompt_state(const PromptStateSource& source) override;
  void on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) override;
  void on_append(int layer, std::span<const Share> key_rows, SecureLayerCache& cache) override;
  Selection select(int layer, std::span<const Share> queries, const SecureLayerCache& cache) override;

 private:
  std::vector<Share> page_bounds(std::span<const Share> queries, const SecureClusterBoxes& boxes, int competing);

  protocols::ops::SecureOps& ops_;
  PolicyConfig config_;
  ClusterSelectionParams params_;
  int page_budget_ = 0;
  BoxSource box_source_;
  std::vector<std::optional<SecureClusterBoxes>> boxes_;  // per layer
};

}  // namespace kvcache::secure
