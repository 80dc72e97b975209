#include "model/secure/attending_rows.hpp"

#include "net/operator_profile.hpp"
#include "protocols/ops/share_layout.hpp"

namespace model::secure {

using mpc::RingMatrix;
using protocols::Protocol;
using protocols::Share;
using protocols::ops::columns;
using protocols::ops::concat_columns;
using protocols::ops::concat_rows;
using protocols::map_components;
using protocols::ops::rows_of;

// heads x cache rows -> heads x attending rows: [chosen groups' rows | public rows]. The chosen
// groups' scores come from one product of each head's group one-hot with its scores laid out one
// group per row.
Share attending_scores(Protocol& proto, int heads, int group, const Share& scores, const kvcache::secure::Selection& rows) {
  const int s = rows.group_size;
  std::vector<Share> parts;
  if (rows.chosen_groups() > 0) {
    const Eigen::Index groups = rows.chosen.front().cols();
    std::vector<Share> one_hots, grouped;
    for (int h = 0; h < heads; ++h) {
      one_hots.push_back(rows.chosen[h / group]);
      grouped.push_back(protocols::ops::reshape(columns(rows_of(scores, h, 1), 0, groups * s), groups, s));
    }
    std::vector<Share> picked = proto.matmul(one_hots, grouped);  // one-hot x fixed point: exact
    for (Share& p : picked) p = protocols::ops::reshape(p, 1, p.rows() * p.cols());
    parts.push_back(concat_rows(picked));
  }
  if (!rows.public_rows.empty()) parts.push_back(protocols::ops::gather_columns(
        scores, protocols::ops::ColumnIndices(rows.public_rows.begin(), rows.public_rows.end())));
  return concat_columns(parts);
}

// The inverse layout: heads x attending rows -> heads x cache rows, zeros where no row attended.
Share spread_probabilities(Protocol& proto, int heads, int group, const Share& probs,
                           const kvcache::secure::Selection& rows, Eigen::Index cache_rows) {
  const int s = rows.group_size;
  const Eigen::Index chosen_width = Eigen::Index{rows.chosen_groups()} * s;
  Share spread = protocols::ops::zeros(proto, heads, cache_rows);
  if (chosen_width > 0) {
    const Eigen::Index groups = rows.chosen.front().cols();
    std::vector<Share> transposed_one_hots, chosen_probs;
    for (int h = 0; h < heads; ++h) {
      transposed_one_hots.push_back(map_components(rows.chosen[h / group], [](const RingMatrix& m) -> RingMatrix { return m.transpose(); }));
      chosen_probs.push_back(protocols::ops::reshape(columns(rows_of(probs, h, 1), 0, chosen_width), rows.chosen_groups(), s));
    }
    std::vector<Share> placed = proto.matmul(transposed_one_hots, chosen_probs);  // groups x s each
    for (Share& p : placed) p = protocols::ops::reshape(p, 1, groups * s);
    const Share parts[] = {concat_rows(placed), protocols::ops::zeros(proto, heads, cache_rows - groups * s)};
    spread = concat_columns(parts);
  }
  if (rows.public_rows.empty()) return spread;
  const Share public_probs = columns(probs, chosen_width, static_cast<Eigen::Index>(rows.public_rows.size()));
  return proto.add(spread, map_components(public_probs, [&](const RingMatrix& m) -> RingMatrix {
    RingMatrix out = RingMatrix::Zero(m.rows(), cache_rows);
    for (std::size_t i = 0; i < rows.public_rows.size(); ++i) out.col(rows.public_rows[i]) = m.col(static_cast<Eigen::Index>(i));
    return out;
  }));
}

Share softmax_over_attending(protocols::ops::SecureOps& ops, int heads, int group, const Share& scores,
                             const kvcache::secure::Selection& rows, int value_bits) {
  Protocol& proto = ops.protocol();
  auto profiled = [&](const char* operator_class) { return net::ProfileScope(proto.mesh().profile(), operator_class); };
  Share narrowed, probs;
  {
    const auto scope = profiled(kvcache::secure::kProfileSelectionGather);
    narrowed = attending_scores(proto, heads, group, scores, rows);
  }
  {
    const auto scope = profiled("attention.softmax");
    probs = ops.softmax(narrowed, {}, value_bits);
  }
  const auto scope = profiled(kvcache::secure::kProfileSelectionGather);
  return spread_probabilities(proto, heads, group, probs, rows, scores.cols());
}

}  // namespace model::secure
