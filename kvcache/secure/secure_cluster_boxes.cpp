#include "kvcache/secure/secure_cluster_boxes.hpp"

#include "protocols/ops/share_layout.hpp"

#include <iterator>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>

namespace kvcache::secure {

namespace {

using mpc::RingMatrix;
using protocols::Protocol;
using protocols::ops::SecureOps;
namespace layout = protocols::ops;

// Keys (and so every box bound) are assumed below 2^14 in real units: the box comparisons run on
// F + 16 bits (32 at F = 16: two values per word, one adder level less than 64 bits). Attention
// keys are outputs of a normalised input times a projection, orders of magnitude inside this; a
// key outside it would give a wrong box (a worse cluster choice), not a wrong attention output.
int box_value_bits(const Protocol& p) { return p.fixed_point().frac_bits() + 16; }

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
    parts.push_back(protocols::map_components(*r.max_source, [&](const RingMatrix& m) { return channels_as_rows(m, r.first, r.groups, r.size, width); }));
  for (const auto& r : requests)
    parts.push_back(p.neg(protocols::map_components(*r.min_source, [&](const RingMatrix& m) { return channels_as_rows(m, r.first, r.groups, r.size, width); })));
  const Share extremes = ops.max(layout::concat_rows(parts), box_value_bits(p));  // (sum of groups * d * 2) x 1
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
  const Share merged = ops.elementwise_max(layout::concat_rows(left), layout::concat_rows(right), box_value_bits(p));
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

SecureClusterBoxes::SecureClusterBoxes(SecureOps& ops, const ClusterSelectionParams& params, int heads, int head_dim,
                                       BoxOptions options)
    : ops_(ops), params_(params), options_(options), heads_(heads), head_dim_(head_dim),
      state_(static_cast<std::size_t>(heads)) {
  params_.validate();
  if (heads < 1 || head_dim < 1)
    throw std::invalid_argument("secure cluster boxes: need at least one head and one channel");
  if (!options.centres && !options.level2_bounds)
    throw std::invalid_argument("secure cluster boxes: the options keep neither centres nor level-2 bounds");
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

const FixedOperand& SecureClusterBoxes::max2(int head) const {
  if (!options_.level2_bounds) throw std::logic_error("secure cluster boxes: level-2 bounds were not requested");
  const auto& m = state_.at(static_cast<std::size_t>(head)).max2;
  if (!m) throw std::logic_error("secure cluster boxes: no complete level-2 cluster yet");
  return *m;
}

const FixedOperand& SecureClusterBoxes::min2(int head) const {
  max2(head);  // same checks
  return *state_.at(static_cast<std::size_t>(head)).min2;
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
  if (!options_.centres) return add_complete(complete2, {});
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
  add_complete(complete2, complete1);
}

void SecureClusterBoxes::initialize_together(std::span<SecureClusterBoxes* const> boxes,
                                             std::span<const std::vector<Share>> keys) {
  if (boxes.empty() || boxes.size() != keys.size())
    throw std::invalid_argument("secure cluster boxes: initialize_together needs one key set per boxes object");
  const SecureClusterBoxes& first = *boxes.front();
  std::vector<Share> all_keys;
  for (std::size_t b = 0; b < boxes.size(); ++b) {
    const SecureClusterBoxes& box = *boxes[b];
    if (&box.ops_ != &first.ops_ || box.head_dim_ != first.head_dim_ || box.params_.size1 != first.params_.size1 ||
        box.params_.size2 != first.params_.size2 || box.params_.alpha != first.params_.alpha ||
        box.options_.centres != first.options_.centres || box.options_.level2_bounds != first.options_.level2_bounds)
      throw std::invalid_argument("secure cluster boxes: initialize_together needs boxes of the same kind");
    box.check_heads(keys[b].size(), "initialize_together");
    all_keys.insert(all_keys.end(), keys[b].begin(), keys[b].end());
  }
  // One object over every head of every set: its state is per head, so it splits back exactly.
  SecureClusterBoxes joint(first.ops_, first.params_, static_cast<int>(all_keys.size()), first.head_dim_, first.options_);
  joint.initialize(all_keys);
  auto next = std::make_move_iterator(joint.state_.begin());
  for (SecureClusterBoxes* box : boxes) {
    box->state_.assign(next, next + box->heads_);
    next += box->heads_;
    box->rows_ = joint.rows_;
  }
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
  if (!options_.centres) return add_complete(closed2, {});  // level 1 serves only the centres
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
  add_complete(closed2, closed1);
}

// Centres of both levels' boxes (level 2 first), in one truncation round.
std::vector<Share> SecureClusterBoxes::centres_of(const std::vector<SecretBox>& level2,
                                                  const std::vector<SecretBox>& level1) {
  Protocol& p = ops_.protocol();
  const mpc::FixedPoint& fp = p.fixed_point();
  std::vector<Share> products;
  for (const auto* boxes : {&level2, &level1}) {
    for (const auto& box : *boxes)
      products.push_back(p.add(p.scale(box.max, fp.encode(params_.alpha)), p.scale(box.min, fp.encode(1 - params_.alpha))));
  }
  if (products.empty()) return products;
  return p.truncate(products, fp.frac_bits());
}

// Rows of newly complete clusters (one box per head, or none for a level) become fixed-operand
// rows: the centres and/or the level-2 bounds, as the options ask, masked in one batch per kind of
// call (fix for an operand's first rows, append_rows afterwards).
void SecureClusterBoxes::add_complete(const std::vector<SecretBox>& level2_boxes,
                                      const std::vector<SecretBox>& level1_boxes) {
  std::vector<Share> level2, level1, max2, min2;
  if (options_.centres) {
    const std::vector<Share> centres = centres_of(level2_boxes, level1_boxes);
    level2.assign(centres.begin(), centres.begin() + static_cast<std::ptrdiff_t>(level2_boxes.size()));
    level1.assign(centres.begin() + static_cast<std::ptrdiff_t>(level2_boxes.size()), centres.end());
  }
  if (options_.level2_bounds) {
    for (const auto& box : level2_boxes) {
      max2.push_back(box.max);
      min2.push_back(box.min);
    }
  }
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
  route(max2, &HeadState::max2);
  route(min2, &HeadState::min2);
  if (!to_fix.empty()) {
    std::vector<FixedOperand> fixed = p.fix(to_fix);
    for (std::size_t i = 0; i < fixed.size(); ++i) *fixed_targets[i] = std::move(fixed[i]);
  }
  if (!to_append.empty()) p.append_rows(appended_targets, to_append);
}

namespace {

// The public shape of a state of `rows` rows.
struct AdoptedShape {
  Eigen::Index c2, c1, open2, open1;  // complete clusters; 1 if the open cluster exists, else 0

  AdoptedShape(int rows, const ClusterSelectionParams& params, bool level1) {
    c2 = rows / params.size2;
    c1 = level1 ? rows / params.size1 : 0;
    open2 = rows % params.size2 != 0 ? 1 : 0;
    open1 = level1 && c2 - (rows / params.size1) * params.children() > 0 ? 1 : 0;
  }
  Eigen::Index per_head() const { return 2 * (c2 + c1 + open2 + open1); }
};

}  // namespace

void SecureClusterBoxes::check_adopted(int rows, std::span<const PlainHeadBoxes> boxes) const {
  check_heads(boxes.size(), "adopt");
  const AdoptedShape shape(rows, params_, options_.centres);
  auto expect = [&](const FloatMatrix& m, Eigen::Index count, const char* what) {
    if (m.rows() != count || (count > 0 && m.cols() != head_dim_))
      throw std::invalid_argument(std::string("secure cluster boxes: adopt expects ") + std::to_string(count) + "x" +
                                  std::to_string(head_dim_) + " " + what + " for " + std::to_string(rows) + " rows");
  };
  for (const PlainHeadBoxes& b : boxes) {
    expect(b.max2, shape.c2, "level-2 maxima");
    expect(b.min2, shape.c2, "level-2 minima");
    expect(b.open2_max, shape.open2, "open level-2 maxima");
    expect(b.open2_min, shape.open2, "open level-2 minima");
    if (!options_.centres) continue;
    expect(b.max1, shape.c1, "level-1 maxima");
    expect(b.min1, shape.c1, "level-1 minima");
    expect(b.open1_max, shape.open1, "open level-1 maxima");
    expect(b.open1_min, shape.open1, "open level-1 minima");
  }
}

// Every head's boxes stacked: max2, min2, max1, min1, open2 max/min, open1 max/min (levels the
// options do not keep are left out), encoded.
mpc::RingMatrix SecureClusterBoxes::stacked_plain_boxes(int rows, std::span<const PlainHeadBoxes> boxes) const {
  const AdoptedShape shape(rows, params_, options_.centres);
  FloatMatrix stacked(shape.per_head() * heads_, head_dim_);
  Eigen::Index at = 0;
  auto put = [&](const FloatMatrix& m, Eigen::Index count) {
    if (count == 0) return;
    stacked.middleRows(at, count) = m;
    at += count;
  };
  for (const PlainHeadBoxes& b : boxes) {
    put(b.max2, shape.c2);
    put(b.min2, shape.c2);
    put(b.max1, shape.c1);
    put(b.min1, shape.c1);
    put(b.open2_max, shape.open2);
    put(b.open2_min, shape.open2);
    put(b.open1_max, shape.open1);
    put(b.open1_min, shape.open1);
  }
  return ops_.protocol().fixed_point().encode(stacked);
}

void SecureClusterBoxes::adopt(int owner, int rows, std::span<const PlainHeadBoxes> boxes) {
  if (rows < 0) throw std::invalid_argument("secure cluster boxes: adopt needs a non-negative row count");
  Protocol& p = ops_.protocol();
  const bool owns = p.mesh().self() == owner;
  if (owns) check_adopted(rows, boxes);
  state_.assign(static_cast<std::size_t>(heads_), HeadState{});
  rows_ = rows;
  const AdoptedShape shape(rows, params_, options_.centres);
  if (rows == 0) return;
  const RingMatrix stacked = owns ? stacked_plain_boxes(rows, boxes) : RingMatrix();
  const Share all = p.input(owner, owns ? &stacked : nullptr, shape.per_head() * heads_, head_dim_);  // one round
  Eigen::Index at = 0;
  auto take = [&](Eigen::Index count) {
    const Share part = layout::rows_of(all, at, count);
    at += count;
    return part;
  };
  std::vector<SecretBox> complete2, complete1;
  for (HeadState& s : state_) {
    SecretBox level2{take(shape.c2), take(shape.c2)}, level1{take(shape.c1), take(shape.c1)};
    if (shape.open2) s.open_cluster2 = SecretBox{take(1), take(1)};
    if (shape.open1) s.open_cluster1 = SecretBox{take(1), take(1)};
    if (shape.c2 > 0) complete2.push_back(std::move(level2));
    if (shape.c1 > 0) complete1.push_back(std::move(level1));
  }
  if (!complete2.empty()) add_complete(complete2, complete1);
}

BoxSource adopted_boxes(const PromptStateSource& source, const ClusterSelectionParams& params) {
  std::vector<std::vector<PlainHeadBoxes>> known(source.known() ? static_cast<std::size_t>(source.layers()) : 0);
  for (std::size_t l = 0; l < known.size(); ++l) known[l] = source.boxes(static_cast<int>(l), params);
  return [known = std::move(known), owner = source.owner(), rows = source.rows()](int layer, SecureClusterBoxes& boxes) {
    boxes.adopt(owner, rows, known.empty() ? std::vector<PlainHeadBoxes>{} : known.at(static_cast<std::size_t>(layer)));
  };
}

}  // namespace kvcache::secure
