#include "kvcache/secure/secure_cluster_boxes.hpp"

#include "protocols/ops/share_layout.hpp"

#include <stdexcept>
#include <string>

namespace kvcache::secure {

namespace {

using mpc::RingMatrix;
using protocols::Protocol;
using protocols::ops::SecureOps;
namespace layout = protocols::ops;

// Channels of `groups` groups of `size` consecutive rows of m (from row `first`) as rows of `width`
// entries: row g*d + j holds channel j of group g. A group smaller than `width` is padded with
// copies of its first row, which changes neither its max nor its min.
RingMatrix channels_as_rows(const RingMatrix& m, Eigen::Index first, Eigen::Index groups, Eigen::Index size,
                            Eigen::Index width) {
  const Eigen::Index d = m.cols();
  RingMatrix out(groups * d, width);
  for (Eigen::Index g = 0; g < groups; ++g) {
    const Eigen::Index top = first + g * size;
    for (Eigen::Index r = 0; r < width; ++r) out.block(g * d, r, d, 1) = m.row(top + (r < size ? r : 0)).transpose();
  }
  return out;
}

// Boxes of groups of rows: the maxima come from `max_source`, the minima from `min_source` (the
// same keys, or the children's maxima and minima).
struct BoxRequest {
  const Share* max_source;
  const Share* min_source;
  Eigen::Index first;
  Eigen::Index groups;
  Eigen::Index size;
};

// All requests (all heads, full and partial clusters, both bounds) in one tournament over rows of
// the widest group; min = -max(-x).
std::vector<SecretBox> tournament_boxes(SecureOps& ops, const std::vector<BoxRequest>& requests, Eigen::Index d) {
  Protocol& p = ops.protocol();
  Eigen::Index width = 1;
  for (const auto& r : requests) width = std::max(width, r.size);
  std::vector<Share> parts;
  for (const auto& r : requests)
    parts.push_back(layout::map_share(*r.max_source, [&](const RingMatrix& m) { return channels_as_rows(m, r.first, r.groups, r.size, width); }));
  for (const auto& r : requests)
    parts.push_back(p.neg(layout::map_share(*r.min_source, [&](const RingMatrix& m) { return channels_as_rows(m, r.first, r.groups, r.size, width); })));
  const Share extremes = ops.max(layout::concat_rows(parts));  // (sum of groups * d * 2) x 1
  std::vector<SecretBox> out;
  Eigen::Index offset = 0, total = 0;
  for (const auto& r : requests) total += r.groups * d;
  for (const auto& r : requests) {
    const Eigen::Index n = r.groups * d;
    out.push_back(SecretBox{layout::reshape(layout::rows_of(extremes, offset, n), r.groups, d),
                            p.neg(layout::reshape(layout::rows_of(extremes, total + offset, n), r.groups, d))});
    offset += n;
  }
  return out;
}

// Elementwise max(a, b): one comparison batch and one multiplication round.
Share elementwise_max(SecureOps& ops, const Share& a, const Share& b) {
  Protocol& p = ops.protocol();
  const Share a_below_b = ops.less_than_zero(p.sub(a, b));
  return p.add(a, p.mul(a_below_b, p.sub(b, a)));
}

// Box i becomes the box of boxes a[i] and b[i], all pairs in one batch.
std::vector<SecretBox> merge_boxes(SecureOps& ops, const std::vector<SecretBox>& a, const std::vector<SecretBox>& b) {
  Protocol& p = ops.protocol();
  std::vector<Share> left, right;
  for (std::size_t i = 0; i < a.size(); ++i) {
    left.push_back(a[i].max);
    right.push_back(b[i].max);
  }
  for (std::size_t i = 0; i < a.size(); ++i) {
    left.push_back(p.neg(a[i].min));
    right.push_back(p.neg(b[i].min));
  }
  const Share merged = elementwise_max(ops, layout::concat_rows(left), layout::concat_rows(right));
  std::vector<SecretBox> out;
  Eigen::Index offset = 0, total = 0;
  for (const auto& box : a) total += box.max.rows();
  for (const auto& box : a) {
    const Eigen::Index n = box.max.rows();
    out.push_back(SecretBox{layout::rows_of(merged, offset, n), p.neg(layout::rows_of(merged, total + offset, n))});
    offset += n;
  }
  return out;
}

}  // namespace

SecureClusterBoxes::SecureClusterBoxes(SecureOps& ops, const ClusterSelectionParams& params, int heads, int head_dim)
    : ops_(ops), params_(params), heads_(heads), head_dim_(head_dim), state_(static_cast<std::size_t>(heads)) {
  params_.validate();
  if (heads < 1 || head_dim < 1)
    throw std::invalid_argument("secure cluster boxes: need at least one head and one channel");
}

void SecureClusterBoxes::check_heads(std::size_t count, const char* op) const {
  if (count != static_cast<std::size_t>(heads_))
    throw std::invalid_argument(std::string("secure cluster boxes: ") + op + " got " + std::to_string(count) +
                                " heads, expected " + std::to_string(heads_));
}

const FixedOperand& SecureClusterBoxes::centres1(int head) const {
  const auto& c = state_.at(static_cast<std::size_t>(head)).centres1;
  if (!c) throw std::logic_error("secure cluster boxes: no complete level-1 cluster yet");
  return *c;
}

const FixedOperand& SecureClusterBoxes::centres2(int head) const {
  const auto& c = state_.at(static_cast<std::size_t>(head)).centres2;
  if (!c) throw std::logic_error("secure cluster boxes: no complete level-2 cluster yet");
  return *c;
}

void SecureClusterBoxes::initialize(std::span<const Share> keys) {
  check_heads(keys.size(), "initialize");
  const Eigen::Index len = keys.front().rows(), s2 = params_.size2, children = params_.children();
  for (const Share& k : keys) {
    if (k.rows() != len || k.cols() != head_dim_)
      throw std::invalid_argument("secure cluster boxes: initialize needs " + std::to_string(len) + "x" +
                                  std::to_string(head_dim_) + " keys for every head");
  }
  state_.assign(static_cast<std::size_t>(heads_), HeadState{});
  rows_ = static_cast<int>(len);
  const Eigen::Index c2 = clusters2(), c1 = clusters1(), tail = len - c2 * s2, open_children = c2 - c1 * children;
  if (len == 0) return;
  // Level 2 from the keys: complete clusters and the open tail of every head.
  std::vector<BoxRequest> requests;
  for (const Share& k : keys) {
    if (c2 > 0) requests.push_back({&k, &k, 0, c2, s2});
    if (tail > 0) requests.push_back({&k, &k, c2 * s2, 1, tail});
  }
  const std::vector<SecretBox> level2 = tournament_boxes(ops_, requests, head_dim_);
  const std::size_t per_head = requests.size() / state_.size();
  std::vector<SecretBox> complete2, complete1;
  for (std::size_t h = 0; h < state_.size(); ++h) {
    if (c2 > 0) complete2.push_back(level2[h * per_head]);
    if (tail > 0) state_[h].open_cluster2 = level2[h * per_head + per_head - 1];
  }
  if (c2 == 0) return;
  // Level 1 from the level-2 boxes: complete parents and the complete children of the open parent.
  requests.clear();
  for (const SecretBox& box : complete2) {
    if (c1 > 0) requests.push_back({&box.max, &box.min, 0, c1, children});
    if (open_children > 0) requests.push_back({&box.max, &box.min, c1 * children, 1, open_children});
  }
  const std::vector<SecretBox> level1 = tournament_boxes(ops_, requests, head_dim_);
  const std::size_t per_head1 = requests.size() / state_.size();
  for (std::size_t h = 0; h < state_.size(); ++h) {
    if (c1 > 0) complete1.push_back(level1[h * per_head1]);
    if (open_children > 0) state_[h].open_cluster1 = level1[h * per_head1 + per_head1 - 1];
  }
  add_centres(centres_of(complete2), centres_of(complete1));
}

void SecureClusterBoxes::append(std::span<const Share> rows) {
  check_heads(rows.size(), "append");
  for (const Share& r : rows) {
    if (r.rows() != 1 || r.cols() != head_dim_)
      throw std::invalid_argument("secure cluster boxes: append takes one 1x" + std::to_string(head_dim_) +
                                  " key row per head");
  }
  fold_new_rows(rows);
  ++rows_;
  if (rows_ % params_.size2 == 0) close_level2_cluster();
}

void SecureClusterBoxes::fold_new_rows(std::span<const Share> rows) {
  if (!state_.front().open_cluster2) {
    for (std::size_t h = 0; h < state_.size(); ++h) state_[h].open_cluster2 = SecretBox{rows[h], rows[h]};
    return;
  }
  std::vector<SecretBox> open, fresh;
  for (std::size_t h = 0; h < state_.size(); ++h) {
    open.push_back(*state_[h].open_cluster2);
    fresh.push_back(SecretBox{rows[h], rows[h]});
  }
  const std::vector<SecretBox> merged = merge_boxes(ops_, open, fresh);
  for (std::size_t h = 0; h < state_.size(); ++h) state_[h].open_cluster2 = merged[h];
}

void SecureClusterBoxes::close_level2_cluster() {
  const int child = (clusters2() - 1) % params_.children();
  std::vector<SecretBox> closed2;
  for (auto& s : state_) {
    closed2.push_back(*s.open_cluster2);
    s.open_cluster2.reset();
  }
  if (child == 0) {
    for (std::size_t h = 0; h < state_.size(); ++h) state_[h].open_cluster1 = closed2[h];
  } else {
    std::vector<SecretBox> open1;
    for (const auto& s : state_) open1.push_back(*s.open_cluster1);
    const std::vector<SecretBox> merged = merge_boxes(ops_, open1, closed2);
    for (std::size_t h = 0; h < state_.size(); ++h) state_[h].open_cluster1 = merged[h];
  }
  std::vector<SecretBox> closed1;
  if (child == params_.children() - 1) {
    for (auto& s : state_) {
      closed1.push_back(*s.open_cluster1);
      s.open_cluster1.reset();
    }
  }
  add_centres(centres_of(closed2), centres_of(closed1));
}

std::vector<Share> SecureClusterBoxes::centres_of(const std::vector<SecretBox>& boxes) {
  Protocol& p = ops_.protocol();
  const mpc::FixedPoint& fp = p.fixed_point();
  std::vector<Share> products;
  for (const auto& box : boxes)
    products.push_back(p.add(p.scale(box.max, fp.encode(params_.alpha)), p.scale(box.min, fp.encode(1 - params_.alpha))));
  if (products.empty()) return products;
  return p.truncate(products, fp.frac_bits());
}

// Centre rows of newly complete clusters (one entry per head, or none for a level): masked in one
// batch per kind of call (fix for a level's first clusters, append_rows afterwards).
void SecureClusterBoxes::add_centres(const std::vector<Share>& level2, const std::vector<Share>& level1) {
  Protocol& p = ops_.protocol();
  std::vector<Share> to_fix, to_append;
  std::vector<std::optional<FixedOperand>*> fixed_targets;
  std::vector<FixedOperand*> appended_targets;
  auto route = [&](const std::vector<Share>& centres, std::optional<FixedOperand> HeadState::*member) {
    for (std::size_t h = 0; h < centres.size(); ++h) {
      auto& target = state_[h].*member;
      if (target) {
        to_append.push_back(centres[h]);
        appended_targets.push_back(&*target);
      } else {
        to_fix.push_back(centres[h]);
        fixed_targets.push_back(&target);
      }
    }
  };
  route(level2, &HeadState::centres2);
  route(level1, &HeadState::centres1);
  if (!to_fix.empty()) {
    std::vector<FixedOperand> fixed = p.fix(to_fix);
    for (std::size_t i = 0; i < fixed.size(); ++i) *fixed_targets[i] = std::move(fixed[i]);
  }
  if (!to_append.empty()) p.append_rows(appended_targets, to_append);
}

}  // namespace kvcache::secure
