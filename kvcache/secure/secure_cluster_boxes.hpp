// Secret per-channel bounding boxes (max, min) of the key clusters of one layer's key/value heads,
// for the secure MPCache selection (kvcache/secure/secure_cluster_selection.hpp).
//
// What a selection needs is each complete cluster's centre a*max + (1-a)*min, one row per cluster,
// kept as a fixed operand (masked once, when the cluster completes) so that scoring opens only the
// query. Level-2 clusters hold s2 rows; a level-1 cluster's box is the box of its s1/s2 children.
//
// Every head of a layer has the same number of rows, so all heads (and both box bounds) go through
// the same comparisons in one batch: rounds never grow with the number of heads.
//  - initialize(keys): tournaments over the s2 rows of every cluster (all clusters, heads, max and
//    min at once), then over the children of every level-1 cluster: 2 * ceil(log4 s2)-ish levels
//    of comparisons, one truncation round and one masking round.
//  - append(row per head): one comparison per channel and bound against the running box of the
//    newest level-2 cluster (one comparison batch + one multiplication round). When the cluster
//    completes, its box is folded into the running level-1 box (one more comparison batch unless it
//    is the first child) and the new centres are truncated and appended (two rounds).
#pragma once

#include "kvcache/cluster_selection.hpp"
#include "protocols/ops/secure_ops.hpp"

#include <optional>
#include <span>
#include <vector>

namespace kvcache::secure {

using protocols::FixedOperand;
using protocols::Share;

// A per-channel box of one head: max and min, each 1 x d (or clusters x d).
struct SecretBox {
  Share max;
  Share min;
};

class SecureClusterBoxes {
 public:
  SecureClusterBoxes(protocols::ops::SecureOps& ops, const ClusterSelectionParams& params, int heads, int head_dim);

  // Boxes of all the rows of `keys` (one len x d share per head, equal lengths), replacing any
  // previous state.
  void initialize(std::span<const Share> keys);
  // Adds one key row per head (1 x d each).
  void append(std::span<const Share> rows);

  int heads() const { return heads_; }
  int head_dim() const { return head_dim_; }
  int rows() const { return rows_; }
  const ClusterSelectionParams& params() const { return params_; }
  int clusters1() const { return rows_ / params_.size1; }
  int clusters2() const { return rows_ / params_.size2; }
  // Centres of the complete clusters of `head` (clusters x d, fixed point); throws while a level
  // has no complete cluster yet.
  const FixedOperand& centres1(int head) const;
  const FixedOperand& centres2(int head) const;

 private:
  struct HeadState {
    std::optional<FixedOperand> centres1, centres2;
    std::optional<SecretBox> open_cluster2;   // rows of the newest, incomplete level-2 cluster
    std::optional<SecretBox> open_cluster1;   // complete children of the newest level-1 cluster
  };

  void check_heads(std::size_t count, const char* op) const;
  void fold_new_rows(std::span<const Share> rows);
  void close_level2_cluster();
  std::vector<Share> centres_of(const std::vector<SecretBox>& boxes);
  void add_centres(const std::vector<Share>& level2, const std::vector<Share>& level1);

  protocols::ops::SecureOps& ops_;
  ClusterSelectionParams params_;
  int heads_;
  int head_dim_;
  int rows_ = 0;
  std::vector<HeadState> state_;
};

}  // namespace kvcache::secure
