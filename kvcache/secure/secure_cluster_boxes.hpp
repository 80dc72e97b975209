// Secret per-channel bounding boxes (max, min) of the key clusters of one layer's key/value heads,
// for the secure MPCache selection (kvcache/secure/secure_cluster_selection.hpp).
//
// What a selection needs is each complete cluster's centre a*max + (1-a)*min, one row per cluster,
// kept as a fixed operand (masked once, when the cluster completes) so that scoring opens only the
// query. Level-2 clusters hold s2 rows; a level-1 cluster's box is the box of its s1/s2 children.
//
// Every head of a layer has the same number of rows, so all heads (and both box bounds) go through
// the same comparisons in one batch: rounds never grow with the number of heads. Every comparison
// runs on F + 16 bits (keys below 2^14 in real units; see box_value_bits in the .cpp).
//  - initialize(keys): tournaments over the s2 rows of every cluster (all clusters, heads, max and
//    min at once), then over the children of every level-1 cluster: 2 * ceil(log4 s2)-ish levels
//    of comparisons, one truncation round and one masking round.
//  - append(row per head): one comparison per channel and bound against the running box of the
//    newest level-2 cluster (one comparison batch + one multiplication round). When the cluster
//    completes, its box is folded into the running level-1 box (one more comparison batch unless it
//    is the first child) and the new centres are truncated and appended (two rounds).
//  - adopt(owner, boxes): the boxes one party already knows in plaintext (the cache source of an
//    adopted cache) are input in one round; centres as above (one truncation, one masking round).
//    Building them from thousands of secret keys would cost gigabytes of comparisons.
//
// Quest uses the same machinery for its pages (BoxOptions{.centres = false, .level2_bounds = true},
// size1 == size2 == page size): level 1 is then not maintained, and the max and min of every
// complete page are kept as fixed operands instead of the centres.
#pragma once

#include "kvcache/cluster_boxes.hpp"
#include "kvcache/cluster_selection.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "protocols/ops/secure_ops.hpp"

#include <functional>
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

// What the boxes keep as fixed operands for their users.
struct BoxOptions {
  bool centres = true;         // MPCache: centres of complete level-1 and level-2 clusters
  bool level2_bounds = false;  // Quest: max and min of complete level-2 clusters
};

// PlainHeadBoxes and plain_head_boxes: kvcache/cluster_boxes.hpp.

class SecureClusterBoxes {
 public:
  SecureClusterBoxes(protocols::ops::SecureOps& ops, const ClusterSelectionParams& params, int heads, int head_dim,
                     BoxOptions options = {});

  // Boxes of all the rows of `keys` (one len x d share per head, equal lengths), replacing any
  // previous state.
  void initialize(std::span<const Share> keys);
  // initialize() of several boxes objects of the same kind (ops, params, options, head_dim; e.g.
  // one per layer), each from its own keys (equal lengths), in the rounds of one initialize().
  static void initialize_together(std::span<SecureClusterBoxes* const> boxes, std::span<const std::vector<Share>> keys);
  // The state initialize() would leave for a cache of `rows` rows, from boxes that party `owner`
  // knows in plaintext (`boxes`: one per head on the owner, ignored elsewhere; the level-1 fields
  // are not read without centres). Replaces any previous state.
  void adopt(int owner, int rows, std::span<const PlainHeadBoxes> boxes);
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
  // Per-channel max and min of the complete level-2 clusters of `head` (clusters x d); only with
  // BoxOptions::level2_bounds; throws while no level-2 cluster is complete.
  const FixedOperand& max2(int head) const;
  const FixedOperand& min2(int head) const;
  const BoxOptions& options() const { return options_; }

 private:
  struct HeadState {
    std::optional<FixedOperand> centres1, centres2;
    std::optional<FixedOperand> max2, min2;   // only with BoxOptions::level2_bounds
    std::optional<SecretBox> open_cluster2;   // rows of the newest, incomplete level-2 cluster
    std::optional<SecretBox> open_cluster1;   // complete children of the newest level-1 cluster
  };

  void check_heads(std::size_t count, const char* op) const;
  void fold_new_rows(std::span<const Share> rows);
  void close_level2_cluster();
  void check_adopted(int rows, std::span<const PlainHeadBoxes> boxes) const;
  mpc::RingMatrix stacked_plain_boxes(int rows, std::span<const PlainHeadBoxes> boxes) const;
  std::vector<Share> centres_of(const std::vector<SecretBox>& level2, const std::vector<SecretBox>& level1);
  void add_complete(const std::vector<SecretBox>& level2, const std::vector<SecretBox>& level1);

  protocols::ops::SecureOps& ops_;
  ClusterSelectionParams params_;
  BoxOptions options_;
  int heads_;
  int head_dim_;
  int rows_ = 0;
  std::vector<HeadState> state_;
};

// Fills a layer's boxes from outside instead of computing them from the secret keys.
using BoxSource = std::function<void(int layer, SecureClusterBoxes& boxes)>;
// The boxes `source` knows (its owner inputs them, the other parties their public shape), for
// every layer, computed now: the source's plaintext keys may be gone when the boxes are built.
BoxSource adopted_boxes(const PromptStateSource& source, const ClusterSelectionParams& params);

}  // namespace kvcache::secure
