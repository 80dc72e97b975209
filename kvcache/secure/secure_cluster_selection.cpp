#include "kvcache/secure/secure_cluster_selection.hpp"

#include "kvcache/secure/secure_cache_policy.hpp"
#include "kvcache/secure/selection_score_bits.hpp"
#include "net/operator_profile.hpp"
#include "protocols/ops/share_layout.hpp"

#include <stdexcept>
#include <string>

namespace kvcache::secure {

namespace {

using mpc::RingMatrix;
using mpc::u64;
using protocols::Protocol;
namespace layout = protocols::ops;

// Penalty of every child slot (parent p, child j) of the level-1 clusters: the forced clusters 0
// and C2-1 never compete.
RingMatrix forced_child_penalty(const ClusterSelectionShape& shape, int children, int frac_bits) {
  RingMatrix out = RingMatrix::Zero(shape.clusters1, children);
  for (int parent = 0; parent < shape.clusters1; ++parent) {
    for (int j = 0; j < children; ++j) {
      const int c = parent * children + j;
      if (c == 0 || c == shape.last_cluster()) out(parent, j) = u64{0} - not_candidate_penalty(frac_bits);
    }
  }
  return out;
}

// expand[p, p * children + j] = 1: maps a level-1 one-hot row to its j-th child's one-hot row.
RingMatrix child_expansion(const ClusterSelectionShape& shape, int children, int j) {
  RingMatrix out = RingMatrix::Zero(shape.clusters1, shape.clusters2);
  for (int parent = 0; parent < shape.clusters1; ++parent) out(parent, parent * children + j) = 1;
  return out;
}

Share transposed(const Share& x) {
  return protocols::map_components(x, [](const RingMatrix& m) -> RingMatrix { return m.transpose(); });
}

Share sum_of_rows(const Protocol& p, const Share& x) { return p.public_matmul(RingMatrix::Ones(1, x.rows()), x); }

void check_operands(std::span<const FixedOperand* const> operands, std::size_t heads, int len, const char* what) {
  if (operands.size() != heads)
    throw std::invalid_argument(std::string("secure cluster selection: ") + std::to_string(operands.size()) + " " +
                                what + " operands for " + std::to_string(heads) + " heads");
  for (const FixedOperand* w : operands) {
    if (w == nullptr || w->value.rows() != len)
      throw std::invalid_argument(std::string("secure cluster selection: ") + what + " must have " +
                                  std::to_string(len) + " rows, the length the selection was made for");
  }
}

}  // namespace

SecureClusterSelector::SecureClusterSelector(protocols::ops::SecureOps& ops) : ops_(ops) {}

std::vector<Share> SecureClusterSelector::scores(std::span<const Share> queries, const SecureClusterBoxes& boxes) {
  Protocol& p = ops_.protocol();
  const net::ProfileScope scope(p.mesh().profile(), kProfileSelectionScores);
  std::vector<Share> query_sums;
  std::vector<const FixedOperand*> centres;
  for (int h = 0; h < boxes.heads(); ++h) {
    query_sums.push_back(sum_of_rows(p, queries[static_cast<std::size_t>(h)]));
    centres.push_back(&boxes.centres1(h));
  }
  for (int h = 0; h < boxes.heads(); ++h) {
    query_sums.push_back(query_sums[static_cast<std::size_t>(h)]);
    centres.push_back(&boxes.centres2(h));
  }
  return p.truncate(p.matmul_fixed_transposed(query_sums, centres), p.fixed_point().frac_bits());
}

// Only the k1 * s1/s2 children of the chosen parents compete: their keys are gathered by one
// product with the level-1 one-hot (slot j * k1 + i is child j of the i-th chosen parent), the
// top-k runs over these slots, and one more product maps the chosen slots back to clusters. Two
// matmul rounds buy a sorting network half as wide (half the level-2 comparisons, fewer stages).
std::vector<Share> SecureClusterSelector::choose_level2(const SecureClusterChoice& selection,
                                                        const std::vector<Share>& level2_scores,
                                                        const ClusterSelectionParams& params) {
  Protocol& p = ops_.protocol();
  const ClusterSelectionShape& s = selection.shape;
  const int children = params.children();
  const int frac_bits = p.fixed_point().frac_bits();
  const RingMatrix penalty = forced_child_penalty(s, children, frac_bits);
  std::vector<Share> per_parent;
  for (const Share& scores : level2_scores) {
    per_parent.push_back(p.add_public(
        layout::reshape(layout::columns(scores, 0, Eigen::Index{s.clusters1} * children), s.clusters1, children),
        penalty));
  }
  // One-hot rows times the scores: integer 0/1 factors, exact, no truncation. Equal scores go to
  // the lower slot (top_k's order), which the plaintext selection mirrors.
  const std::vector<Share> slot_keys = p.matmul(selection.level1, per_parent);
  std::vector<Share> slot_rows;
  for (const Share& k : slot_keys) slot_rows.push_back(layout::reshape(transposed(k), 1, Eigen::Index{s.k1} * children));
  const std::vector<Share> chosen_slots = ops_.top_k(layout::concat_rows(slot_rows), s.k2, selection_value_bits(frac_bits));
  std::vector<Share> slot_clusters;
  for (const Share& one_hot : selection.level1) {
    std::vector<Share> by_child;
    for (int j = 0; j < children; ++j) by_child.push_back(p.matmul_public(one_hot, child_expansion(s, children, j)));
    slot_clusters.push_back(layout::concat_rows(by_child));
  }
  return p.matmul(chosen_slots, slot_clusters);
}

SecureClusterChoice SecureClusterSelector::select(std::span<const Share> queries, const SecureClusterBoxes& boxes) {
  if (queries.size() != static_cast<std::size_t>(boxes.heads()))
    throw std::invalid_argument("secure cluster selection: " + std::to_string(queries.size()) +
                                " query groups for " + std::to_string(boxes.heads()) + " heads");
  for (const Share& q : queries) {
    if (q.rows() < 1 || q.cols() != boxes.head_dim())
      throw std::invalid_argument("secure cluster selection: query groups must be g x " +
                                  std::to_string(boxes.head_dim()) + " with g >= 1");
  }
  SecureClusterChoice out;
  out.shape = cluster_selection_shape(boxes.rows(), boxes.params());
  if (!out.shape.selects) return out;
  const std::vector<Share> all_scores = scores(queries, boxes);
  const auto heads = static_cast<std::size_t>(boxes.heads());
  const std::vector<Share> level1_scores(all_scores.begin(), all_scores.begin() + static_cast<std::ptrdiff_t>(heads));
  const std::vector<Share> level2_scores(all_scores.begin() + static_cast<std::ptrdiff_t>(heads), all_scores.end());
  Protocol& p = ops_.protocol();
  const net::ProfileScope scope(p.mesh().profile(), kProfileSelectionTopK);
  out.level1 = ops_.top_k(layout::concat_rows(level1_scores), out.shape.k1, selection_value_bits(p.fixed_point().frac_bits()));
  if (out.shape.k2 > 0) out.level2 = choose_level2(out, level2_scores, boxes.params());
  return out;
}

GatheredRows SecureClusterSelector::gather(const SecureClusterChoice& selection, std::span<const FixedOperand* const> keys,
                                           std::span<const FixedOperand* const> values) {
  const ClusterSelectionShape& s = selection.shape;
  const std::size_t heads = keys.size();
  check_operands(keys, heads, s.len, "key");
  check_operands(values, heads, s.len, "value");
  GatheredRows out;
  if (!s.selects) {
    for (std::size_t h = 0; h < heads; ++h) {
      out.keys.push_back(keys[h]->value.share());
      out.values.push_back(values[h]->value.share());
    }
    return out;
  }
  if (selection.level2.size() != (s.k2 > 0 ? heads : 0))
    throw std::invalid_argument("secure cluster selection: the selection was made for another number of heads");
  Protocol& p = ops_.protocol();
  // Chosen clusters: whole clusters are rows of the grouped operands, so one product per operand,
  // keys and values of every head in the same round.
  std::vector<Share> chosen;
  if (s.k2 > 0) {
    std::vector<FixedOperand> grouped;
    std::vector<Share> one_hots;
    for (auto operands : {keys, values}) {
      for (std::size_t h = 0; h < heads; ++h) {
        grouped.push_back(p.group_rows(*operands[h], s.size2));
        one_hots.push_back(selection.level2[h]);
      }
    }
    std::vector<const FixedOperand*> grouped_ptrs;
    for (const auto& g : grouped) grouped_ptrs.push_back(&g);
    chosen = p.matmul_fixed(one_hots, grouped_ptrs);
  }
  auto attending = [&](const FixedOperand& w, std::size_t i) {
    std::vector<Share> parts{layout::rows_of(w.value, 0, s.size2)};
    if (s.k2 > 0) parts.push_back(layout::reshape(chosen[i], Eigen::Index{s.k2} * s.size2, w.value.cols()));
    parts.push_back(layout::rows_of(w.value, Eigen::Index{s.last_cluster()} * s.size2, s.size2 + s.tail_rows()));
    return layout::concat_rows(parts);
  };
  for (std::size_t h = 0; h < heads; ++h) {
    out.keys.push_back(attending(*keys[h], h));
    out.values.push_back(attending(*values[h], heads + h));
  }
  return out;
}

}  // namespace kvcache::secure
