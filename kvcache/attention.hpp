// Dense scaled dot-product attention in plaintext, shared by the policies and the plaintext engine:
// softmax(q K^T / sqrt(d)) V over all rows of a head or over a subset of them.
#pragma once

#include "kvcache/layer_cache.hpp"

#include <optional>
#include <vector>

namespace kvcache {

struct AttentionResult {
  Eigen::RowVectorXd output;  // 1 x head_dim
  Eigen::RowVectorXd probs;   // one probability per attended row, in the order of `rows`
};

// Numerically stable softmax of one row (subtracts the maximum first).
Eigen::RowVectorXd softmax(const Eigen::RowVectorXd& logits);

// Attention of one query over `head`; `rows` (indices into the head's rows, any order) restricts
// the attended rows, std::nullopt means all rows. Throws if the set is empty or widths differ.
AttentionResult dense_attention(const Eigen::RowVectorXd& query, const HeadCache& head,
                                const std::optional<std::vector<int>>& rows = std::nullopt);

// Causal attention probabilities of a block of queries over `keys`: query i sits at position
// query_positions[i] and sees exactly the keys whose position is <= its own. Returns
// queries.rows() x keys.rows(); masked entries are 0.
FloatMatrix causal_attention_probs(const FloatMatrix& queries, const std::vector<int>& query_positions,
                                   mpc::FloatView keys, const std::vector<int>& key_positions);

}  // namespace kvcache
