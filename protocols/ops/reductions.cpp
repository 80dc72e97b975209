// Max, argmax, top-k and gathering over the last axis (protocols/ops/secure_ops.hpp).
#include "protocols/ops/secure_ops.hpp"
#include "protocols/ops/share_layout.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace protocols::ops {

namespace {

ColumnIndices strided(Eigen::Index start, Eigen::Index count, Eigen::Index step) {
  ColumnIndices out;
  for (Eigen::Index i = 0; i < count; ++i) out.push_back(start + i * step);
  return out;
}

RingMatrix column_numbers(Eigen::Index rows, Eigen::Index cols) {
  RingMatrix m(rows, cols);
  for (Eigen::Index j = 0; j < cols; ++j) m.col(j).setConstant(static_cast<u64>(j));
  return m;
}

constexpr int kWordBits = 64;

// Padding that never wins: below every value the comparisons are specified for (|x| < 2^60 at
// full width, |x| < 2^(value_bits - 2) on value_bits bits), and its difference with any of them
// still inside the comparison's range.
u64 lowest_value(int value_bits) {
  return static_cast<u64>(-(std::int64_t{1} << (value_bits == kWordBits ? 60 : value_bits - 2)));
}

// A tournament over the last axis in groups of `arity` adjacent columns. Every pair of a group is
// compared in one batch; the winner is the member that beats every earlier member strictly and
// every later one weakly (so exactly one wins, the first maximum), found by an AND tree over its
// arity - 1 outcomes. Arity 4 halves the levels of a binary tree (log4 n instead of log2 n) for
// 1.5 comparisons per element per level instead of 0.5, and each level costs two AND rounds more
// than a binary level.

struct Tournament {
  Share values;
  std::optional<Share> indices;
};

Share padded_to(Protocol& p, const Share& x, Eigen::Index cols, u64 fill) {
  if (x.cols() == cols) return x;
  const Share parts[] = {x, constant(p, filled(x.rows(), cols - x.cols(), fill))};
  return concat_columns(parts);
}

// The first level's winners i_b + [a >= b] (i_a - i_b) for the public i_a = 2j, i_b = 2j + 1 of
// a level of `width` columns (a padded b, past the last column: i_b = 0).
Share first_level_indices(const Protocol& p, const Share& at_least, Eigen::Index width) {
  const Eigen::Index rows = at_least.rows(), pairs = at_least.cols();
  RingMatrix index_b(rows, pairs), difference(rows, pairs);
  for (Eigen::Index j = 0; j < pairs; ++j) {
    const bool real_b = 2 * j + 1 < width;
    index_b.col(j).setConstant(real_b ? static_cast<u64>(2 * j + 1) : 0);
    difference.col(j).setConstant(real_b ? ~u64{0} : static_cast<u64>(2 * j));
  }
  return p.add_public(p.mul_public(at_least, difference), index_b);
}

// The even and the odd columns of x, padded with `fill` to an even count: the pairs of a binary
// tree's level (a's columns come first in x, so ties go to the lower index).
struct ColumnPairs {
  Share a, b;
};
ColumnPairs column_pairs(Protocol& p, const Share& x, u64 fill) {
  const Eigen::Index pairs = (x.cols() + 1) / 2;
  const Share padded = padded_to(p, x, 2 * pairs, fill);
  return {gather_columns(padded, strided(0, pairs, 2)), gather_columns(padded, strided(1, pairs, 2))};
}

BoolShare bool_columns(const BoolShare& x, Eigen::Index first, Eigen::Index count) {
  return map_components(x, [&](const RingMatrix& m) -> RingMatrix { return m.middleCols(first, count); });
}

BoolShare bool_concat_columns(const std::vector<BoolShare>& parts) {
  std::vector<Share> as_shares;
  for (const auto& b : parts) as_shares.push_back(Share{b.first, b.second});
  const Share joined = concat_columns(as_shares);
  return BoolShare{joined.first, joined.second};
}

// The bits of a tournament: boolean shares from the adder-based msb (ANDs on boolean shares, one
// conversion at the end), or arithmetic 0/1 shares from FSS comparisons (ANDs as products, no
// conversion). Both give the same winners in the same number of AND levels.
struct BooleanBits {
  using Bit = BoolShare;
  static Bit less_than_zero(SecureOps& ops, const Share& x, int value_bits) { return ops.msb(x, value_bits); }
  static Bit not_(SecureOps& ops, const Bit& x) { return ops.boolean().not_(x); }
  static std::vector<Bit> and_(SecureOps& ops, const std::vector<Bit>& x, const std::vector<Bit>& y) {
    return ops.boolean().and_(x, y);
  }
  static Bit columns(const Bit& x, Eigen::Index first, Eigen::Index count) { return bool_columns(x, first, count); }
  static Share to_arithmetic(SecureOps& ops, const std::vector<Bit>& bits) {
    return ops.bit_to_arithmetic(bool_concat_columns(bits));
  }
};

struct ArithmeticBits {
  using Bit = Share;
  static Bit less_than_zero(SecureOps& ops, const Share& x, int value_bits) { return ops.less_than_zero(x, value_bits); }
  static Bit not_(SecureOps& ops, const Bit& x) {
    return ops.protocol().add_public(ops.protocol().neg(x), filled(x.rows(), x.cols(), 1));
  }
  static std::vector<Bit> and_(SecureOps& ops, const std::vector<Bit>& x, const std::vector<Bit>& y) {
    return ops.protocol().mul(x, y);
  }
  static Bit columns(const Bit& x, Eigen::Index first, Eigen::Index count) { return ops::columns(x, first, count); }
  static Share to_arithmetic(SecureOps&, const std::vector<Bit>& bits) { return concat_columns(bits); }
};

// AND of every list (all lists in one batch per tree level).
template <class Bits>
std::vector<typename Bits::Bit> and_all(SecureOps& ops, std::vector<std::vector<typename Bits::Bit>> lists) {
  using Bit = typename Bits::Bit;
  while (std::any_of(lists.begin(), lists.end(), [](const auto& l) { return l.size() > 1; })) {
    std::vector<Bit> lhs, rhs;
    for (auto& l : lists) {
      for (std::size_t i = 0; i + 1 < l.size(); i += 2) {
        lhs.push_back(l[i]);
        rhs.push_back(l[i + 1]);
      }
    }
    const auto products = Bits::and_(ops, lhs, rhs);
    std::size_t next = 0;
    for (auto& l : lists) {
      std::vector<Bit> reduced;
      for (std::size_t i = 0; i + 1 < l.size(); i += 2) reduced.push_back(products[next++]);
      if (l.size() % 2 == 1) reduced.push_back(l.back());
      l = std::move(reduced);
    }
  }
  std::vector<Bit> out;
  for (auto& l : lists) out.push_back(std::move(l.front()));
  return out;
}

template <class Bits>
Tournament play_level(SecureOps& ops, const Tournament& t, Eigen::Index arity, int value_bits) {
  using Bit = typename Bits::Bit;
  Protocol& p = ops.protocol();
  const Eigen::Index groups = (t.values.cols() + arity - 1) / arity;
  const Share values = padded_to(p, t.values, groups * arity, lowest_value(value_bits));
  std::optional<Share> indices;
  if (t.indices) indices = padded_to(p, *t.indices, groups * arity, 0);
  std::vector<Share> members, member_indices;
  for (Eigen::Index i = 0; i < arity; ++i) {
    members.push_back(gather_columns(values, strided(i, groups, arity)));
    if (indices) member_indices.push_back(gather_columns(*indices, strided(i, groups, arity)));
  }
  // [a_i < a_j] for every pair i < j of every group, in one comparison batch.
  std::vector<Share> differences;
  for (Eigen::Index i = 0; i < arity; ++i) {
    for (Eigen::Index j = i + 1; j < arity; ++j) differences.push_back(p.sub(members[i], members[j]));
  }
  const Bit less = Bits::less_than_zero(ops, concat_columns(differences), value_bits);
  std::vector<std::vector<Bit>> conditions(static_cast<std::size_t>(arity));
  Eigen::Index pair = 0;
  for (Eigen::Index i = 0; i < arity; ++i) {
    for (Eigen::Index j = i + 1; j < arity; ++j, ++pair) {
      const Bit i_less_j = Bits::columns(less, pair * groups, groups);
      conditions[static_cast<std::size_t>(i)].push_back(Bits::not_(ops, i_less_j));  // a_i >= a_j
      conditions[static_cast<std::size_t>(j)].push_back(i_less_j);                   // a_j > a_i
    }
  }
  // Every member's win bit as arithmetic (one batch), then sum_i win_i * a_i in one multiplication.
  const Share won = Bits::to_arithmetic(ops, and_all<Bits>(ops, std::move(conditions)));
  std::vector<Share> bits, picked;
  for (Eigen::Index i = 0; i < arity; ++i) {
    bits.push_back(columns(won, i * groups, groups));
    picked.push_back(members[i]);
  }
  if (indices) {
    for (Eigen::Index i = 0; i < arity; ++i) {
      bits.push_back(columns(won, i * groups, groups));
      picked.push_back(member_indices[i]);
    }
  }
  const auto products = p.mul(bits, picked);
  auto sum_of = [&](std::size_t first) {
    Share acc = products[first];
    for (std::size_t i = 1; i < static_cast<std::size_t>(arity); ++i) acc = p.add(acc, products[first + i]);
    return acc;
  };
  Tournament next{sum_of(0), std::nullopt};
  if (indices) next.indices = sum_of(static_cast<std::size_t>(arity));
  return next;
}

Tournament play_level(SecureOps& ops, const Tournament& t, Eigen::Index arity, int value_bits = kWordBits) {
  return ops.comparisons() == Comparisons::fss ? play_level<ArithmeticBits>(ops, t, arity, value_bits)
                                               : play_level<BooleanBits>(ops, t, arity, value_bits);
}

}  // namespace

Share SecureOps::max(const Share& x) { return max(x, kWordBits); }

// With FSS and pairs: max(a, b) = b + ReLU(a - b), one ReLU gate per pair, so a level is the
// gate's round alone (3PC: two) instead of a comparison and a selection.
Share SecureOps::max_by_relu(const Share& x, int value_bits) {
  Share values = x;
  while (values.cols() > 1) {
    const ColumnPairs v = column_pairs(proto_, values, lowest_value(value_bits));
    values = elementwise_max(v.a, v.b, value_bits);
  }
  return values;
}

// The same tree keeping the winner's index: one select gate per pair and level gives ReLU(a - b)
// and [a >= b] (i_a - i_b), so max = b + ReLU(a - b) and its index i_b + [a >= b] (i_a - i_b) come
// out of the gate's round (3PC: two) instead of a comparison round and a selecting product; ties go
// to a, the lower index. On the first level the indices are public, so ReLU's key alone serves
// (it gives [a >= b] too) and half of all keys need no third payload word. Then the index's
// one-hot by one DPF.
MaxResult SecureOps::argmax_by_relu(const Share& x, int value_bits) {
  const Eigen::Index rows = x.rows();
  Share values = x;
  std::optional<Share> indices;  // none while they are the public column numbers
  while (values.cols() > 1) {
    const Eigen::Index width = values.cols(), pairs = (width + 1) / 2;
    const ColumnPairs v = column_pairs(proto_, values, lowest_value(value_bits));
    const Share difference = proto_.sub(v.a, v.b);
    std::optional<ColumnPairs> i;
    fss::FssRound round(*key_dealing_);
    if (indices) {
      i = column_pairs(proto_, *indices, 0);
      round.add(fss_->prepare_select(difference, proto_.sub(i->a, i->b), value_bits), Shape{2 * rows, pairs});
    } else {
      round.add(fss_->prepare(difference, value_bits, fss::FssComparison::Output::relu_with_bit), Shape{2 * rows, pairs});
    }
    const Share out = std::move(round.run().front());
    values = proto_.add(v.b, rows_of(out, 0, rows));
    const Share second = rows_of(out, rows, rows);  // [a >= b] (i_a - i_b), or on the first level [a >= b]
    indices = i ? proto_.add(i->b, second) : first_level_indices(proto_, second, width);
  }
  if (!indices) indices = constant(proto_, column_numbers(rows, 1));  // a single column
  return MaxResult{values, one_hot(*indices, x.cols())};
}

Share SecureOps::max(const Share& x, int value_bits) {
  if (x.cols() < 1) throw std::invalid_argument("max: empty rows");
  if (value_bits < 3 || value_bits > kWordBits) throw std::invalid_argument("max: value bits must be in [3, 64]");
  if (fss_ && tournament_arity() == 2) return max_by_relu(x, value_bits);
  Tournament t{x, std::nullopt};
  while (t.values.cols() > 1) t = play_level(*this, t, tournament_arity(), value_bits);
  return t.values;
}

MaxResult SecureOps::argmax(const Share& x) { return argmax(x, kWordBits); }

MaxResult SecureOps::argmax(const Share& x, int value_bits) {
  if (x.cols() < 1) throw std::invalid_argument("argmax: empty rows");
  if (value_bits < 3 || value_bits > kWordBits) throw std::invalid_argument("argmax: value bits must be in [3, 64]");
  if (fss_ && tournament_arity() == 2) return argmax_by_relu(x, value_bits);
  Tournament t{x, constant(proto_, column_numbers(x.rows(), x.cols()))};
  while (t.values.cols() > 1) t = play_level(*this, t, tournament_arity(), value_bits);
  return MaxResult{t.values, one_hot(*t.indices, x.cols())};
}

namespace {

Eigen::Index rank_comparisons(Eigen::Index n) { return n * (n - 1) / 2; }

// Compare-exchanges of the bitonic network over n columns padded to a power of two.
Eigen::Index bitonic_comparisons(Eigen::Index n) {
  Eigen::Index padded = 1, levels = 0;
  while (padded < n) {
    padded *= 2;
    ++levels;
  }
  return padded / 2 * levels * (levels + 1) / 2;
}

// One stage of a bitonic network on n (a power of two) columns: the compare-exchange partners
// (i, i ^ stride) and, per pair, whether that block is sorted descending.
struct BitonicStage {
  ColumnIndices low, high;
  RingMatrix sign;  // +1 (descending) or -1 (ascending) per pair, as ring elements
  ColumnIndices inverse;  // where each column of [low | high] goes back to
};

BitonicStage bitonic_stage(Eigen::Index n, Eigen::Index block, Eigen::Index stride, Eigen::Index rows) {
  BitonicStage s;
  for (Eigen::Index i = 0; i < n; ++i) {
    const Eigen::Index partner = i ^ stride;
    if (partner <= i) continue;
    s.low.push_back(i);
    s.high.push_back(partner);
  }
  const auto pairs = static_cast<Eigen::Index>(s.low.size());
  s.sign.resize(rows, pairs);
  s.inverse.resize(static_cast<std::size_t>(n));
  for (Eigen::Index t = 0; t < pairs; ++t) {
    const bool descending = (s.low[t] & block) == 0;  // the final stage (block = n) is all descending
    s.sign.col(t).setConstant(descending ? u64{1} : ~u64{0});
    s.inverse[s.low[t]] = t;
    s.inverse[s.high[t]] = pairs + t;
  }
  return s;
}

// Rows x (n * k) hits, column i * k + t for [rank(i) == t] -> per row the k x n selection.
std::vector<Share> per_row_selections(const Share& hits, Eigen::Index n, Eigen::Index k) {
  std::vector<Share> per_row;
  for (Eigen::Index r = 0; r < hits.rows(); ++r) {
    per_row.push_back(map_components(rows_of(hits, r, 1), [n, k](const RingMatrix& m) -> RingMatrix {
      return Eigen::Map<const RingMatrix>(m.data(), n, k).transpose();
    }));
  }
  return per_row;
}

void check_top_k(Eigen::Index n, Eigen::Index k, int value_bits) {
  if (k < 1 || k > n) throw std::invalid_argument("top_k: need 1 <= k <= n");
  if (value_bits < 3 || value_bits > 64) throw std::invalid_argument("top_k: value bits must be in [3, 64]");
}

}  // namespace

std::vector<Share> SecureOps::top_k(const Share& x, Eigen::Index k, int value_bits) {
  check_top_k(x.cols(), k, value_bits);
  return rank_comparisons(x.cols()) <= 2 * bitonic_comparisons(x.cols()) ? top_k_by_rank(x, k, value_bits)
                                                                         : top_k_bitonic(x, k, value_bits);
}

// rank(i) = how many values beat value i (a larger value, or an equal one at a lower index): the
// comparisons of every pair i < j in one batch, then a public linear map. Entry (i, t) of the
// one-hot is [rank(i) == t], tested for t < k only.
std::vector<Share> SecureOps::top_k_by_rank(const Share& x, Eigen::Index k, int value_bits) {
  const Eigen::Index rows = x.rows(), n = x.cols();
  check_top_k(n, k, value_bits);
  ColumnIndices first, second;
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index j = i + 1; j < n; ++j) {
      first.push_back(i);
      second.push_back(j);
    }
  // For i < j: [x_i < x_j] counts against i; its complement counts against j.
  const auto pairs = static_cast<Eigen::Index>(first.size());
  RingMatrix to_ranks = RingMatrix::Zero(pairs, n), complements(rows, n);
  for (Eigen::Index p = 0; p < pairs; ++p) {
    to_ranks(p, first[static_cast<std::size_t>(p)]) = 1;
    to_ranks(p, second[static_cast<std::size_t>(p)]) = ~u64{0};  // - [x_i < x_j]
  }
  for (Eigen::Index i = 0; i < n; ++i) complements.col(i).setConstant(static_cast<u64>(i));  // i pairs (j < i, i)
  Share ranks = x;
  if (pairs > 0) {
    // |x_i - x_j| < 2^(value_bits - 1).
    const Share below = less_than(gather_columns(x, first), gather_columns(x, second), value_bits);
    ranks = proto_.add_public(proto_.matmul_public(below, to_ranks), complements);
  } else {
    ranks = constant(proto_, RingMatrix::Zero(rows, n));
  }
  if (fss_) return rank_one_hots(ranks, k);
  // Column i * k + t tests rank(i) == t.
  const Share wide = map_components(ranks, [k](const RingMatrix& m) -> RingMatrix {
    RingMatrix out(m.rows(), m.cols() * k);
    for (Eigen::Index i = 0; i < m.cols(); ++i) out.middleCols(i * k, k) = m.col(i).replicate(1, k);
    return out;
  });
  RingMatrix slots(rows, n * k);
  for (Eigen::Index i = 0; i < n; ++i)
    for (Eigen::Index t = 0; t < k; ++t) slots.col(i * k + t).setConstant(static_cast<u64>(t));
  return per_row_selections(equal_public(wide, slots, bits_for_difference(n)), n, k);
}

// With FSS, one DPF per rank (ranks lie in [0, n)) gives its whole row [rank(i) == t], t < k, at once.
std::vector<Share> SecureOps::rank_one_hots(const Share& ranks, Eigen::Index k) {
  const Eigen::Index rows = ranks.rows(), n = ranks.cols();
  const Share hits = fss_lookup_->one_hot(reshape(ranks, rows * n, 1), bits_for_index(n), k);
  return per_row_selections(reshape(hits, rows, n * k), n, k);
}

// The network sorts keys x_i * 2^b + (N - 1 - i) (N columns after padding, b index bits): distinct,
// and equal values keep index order like the rank path. Keys need value_bits + b bits.
std::vector<Share> SecureOps::top_k_bitonic(const Share& x, Eigen::Index k, int value_bits) {
  const Eigen::Index rows = x.rows(), n = x.cols();
  check_top_k(n, k, value_bits);
  Eigen::Index padded = 1;
  int index_bits = 0;
  while (padded < n) {
    padded *= 2;
    ++index_bits;
  }
  const int key_bits = value_bits + index_bits;
  if (key_bits > 64)
    throw std::invalid_argument("top_k: " + std::to_string(value_bits) + "-bit values and " + std::to_string(n) +
                                " columns do not fit the 64-bit sort keys");
  const u64 lowest = u64{0} - (u64{1} << (value_bits - 2));  // padding: at the bound, sorts last
  Share values = x, indices = constant(proto_, column_numbers(rows, padded));
  if (padded > n) {
    const Share parts[] = {x, constant(proto_, filled(rows, padded - n, lowest))};
    values = concat_columns(parts);
  }
  RingMatrix reversed_index(rows, padded);
  for (Eigen::Index c = 0; c < padded; ++c) reversed_index.col(c).setConstant(static_cast<u64>(padded - 1 - c));
  values = proto_.add_public(proto_.scale(values, u64{1} << index_bits), reversed_index);
  for (Eigen::Index block = 2; block <= padded; block *= 2) {
    for (Eigen::Index stride = block / 2; stride > 0; stride /= 2) {
      const BitonicStage stage = bitonic_stage(padded, block, stride, rows);
      const Share a = gather_columns(values, stage.low), b = gather_columns(values, stage.high);
      const Share ia = gather_columns(indices, stage.low), ib = gather_columns(indices, stage.high);
      // Swap when the pair is out of order for its block's direction.
      const Share swap = less_than_zero(proto_.mul_public(proto_.sub(a, b), stage.sign), key_bits);
      const Share bits[] = {swap, swap};
      const Share deltas[] = {proto_.sub(b, a), proto_.sub(ib, ia)};
      const auto moved = proto_.mul(bits, deltas);
      const Share new_values[] = {proto_.add(a, moved[0]), proto_.sub(b, moved[0])};
      const Share new_indices[] = {proto_.add(ia, moved[1]), proto_.sub(ib, moved[1])};
      values = gather_columns(concat_columns(new_values), stage.inverse);
      indices = gather_columns(concat_columns(new_indices), stage.inverse);
    }
  }
  // The first k indices of every row, one-hot, all rows in one batch.
  const Share selected = one_hot(reshape(columns(indices, 0, k), rows * k, 1), n);
  std::vector<Share> per_row;
  for (Eigen::Index r = 0; r < rows; ++r) per_row.push_back(rows_of(selected, r * k, k));
  return per_row;
}

Share SecureOps::gather_rows(const Share& selection, const Share& matrix) {
  if (selection.cols() != matrix.rows()) throw std::invalid_argument("gather_rows: selection width must equal the row count");
  // The selection holds integers 0/1, so the product needs no truncation.
  return proto_.matmul(selection, matrix);
}

}  // namespace protocols::ops
