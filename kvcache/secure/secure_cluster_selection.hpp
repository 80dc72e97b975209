// The secure MPCache dynamic selection (fixed-count variant of kvcache/cluster_selection.hpp) for
// all key/value heads of a layer at once. Which clusters attend stays secret: the result is a
// secret one-hot per head, and the attending key/value rows are gathered by one product with it.
//
// Cost of select(), every head in the same rounds:
//  - scores: one matmul_fixed_transposed round (only the summed query is opened) + one truncation;
//  - level 1: SecureOps::top_k over C1 columns; the candidate mask is local;
//  - level 2: one matmul round gathers the keys of the k1 * s1/s2 children of the chosen parents,
//    SecureOps::top_k runs over these slots only, one matmul round maps the winners to clusters.
// gather() costs one matmul_fixed round for all heads, keys and values (only the k2 x C2 one-hot
// is opened, never the cache).
//
// Ties: SecureOps::top_k promises no order among equal values on long rows (bitonic network).
// Each score is therefore scaled by 2^b (2^b >= clusters) and the reversed cluster index is added
// in the low bits: keys are distinct and equal scores go to the lower cluster index, exactly like
// the plaintext reference. The forced clusters among the children get a public penalty of -2^58. Both need
// |score| * 2^(F + b) < 2^57 (F fraction bits), i.e. |score| < 2^28 at F = 16 and 8192 clusters,
// far above what attention scores reach.
#pragma once

#include "kvcache/cluster_selection.hpp"
#include "kvcache/secure/secure_cluster_boxes.hpp"

#include <span>
#include <vector>

namespace kvcache::secure {

struct SecureClusterChoice {
  ClusterSelectionShape shape;
  // Per head: the chosen level-1 clusters as a k1 x C1 one-hot of integers, best first.
  std::vector<Share> level1;
  // Per head: the chosen level-2 candidates as a k2 x C2 one-hot of integers, best first (empty
  // when k2 = 0 or when the shape does not select).
  std::vector<Share> level2;
};

// Attending rows per head: cluster 0, the chosen clusters in the order of the one-hot, cluster
// C2-1, then the tail rows ((k2 + 2) * s2 + tail rows); every row when the shape does not select.
struct GatheredRows {
  std::vector<Share> keys;
  std::vector<Share> values;
};

class SecureClusterSelector {
 public:
  explicit SecureClusterSelector(protocols::ops::SecureOps& ops);

  // `queries`: per key/value head, the query rows of its group (g x d, fixed point, scaled as the
  // attention uses them). `boxes` must cover the current cache.
  SecureClusterChoice select(std::span<const Share> queries, const SecureClusterBoxes& boxes);

  // `keys` / `values`: the cache of every head (len x d fixed operands, len = selection.shape.len).
  GatheredRows gather(const SecureClusterChoice& selection, std::span<const FixedOperand* const> keys,
                      std::span<const FixedOperand* const> values);

 private:
  std::vector<Share> scores(std::span<const Share> queries, const SecureClusterBoxes& boxes);
  std::vector<Share> choose_level2(const SecureClusterChoice& selection, const std::vector<Share>& level2_scores,
                                   const ClusterSelectionParams& params);

  protocols::ops::SecureOps& ops_;
};

}  // namespace kvcache::secure
