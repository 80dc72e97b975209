#include "kvcache/secure/secure_score_eviction.hpp"

#include "net/operator_profile.hpp"
#include "protocols/ops/share_layout.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace kvcache::secure {

namespace {

using mpc::RingMatrix;
using mpc::u64;
using protocols::Protocol;
namespace layout = protocols::ops;

// Dominates every ordering key (|key| < 2^57) without overflowing the comparison range.
constexpr u64 kProtected = u64{1} << 58;

int index_bits(Eigen::Index rows) {
  int bits = 0;
  while ((Eigen::Index{1} << bits) < rows) ++bits;
  return bits;
}

// upper(j, t) = 1 for j <= t: a row times it gives its prefix sums.
RingMatrix prefix_sum_matrix(Eigen::Index n) {
  RingMatrix out = RingMatrix::Zero(n, n);
  for (Eigen::Index t = 0; t < n; ++t) out.col(t).head(t + 1).setOnes();
  return out;
}

net::ProfileScope profiled(protocols::ops::SecureOps& ops, const char* operator_class) {
  return net::ProfileScope(ops.protocol().mesh().profile(), operator_class);
}

}  // namespace

SecureScoreEviction::SecureScoreEviction(protocols::ops::SecureOps& ops, ScoreRule rule, const PolicyConfig& config,
                                         int kv_heads, int group, int budget)
    : ops_(ops), rule_(rule), kv_heads_(kv_heads), group_(group), budget_(budget) {
  validate(config);
  if (kv_heads < 1 || group < 1)
    throw std::invalid_argument(name() + ": need at least one key/value head and one query head per group, got " +
                                std::to_string(kv_heads) + " and " + std::to_string(group));
  if (budget < 1) throw std::invalid_argument(name() + ": the token budget must be positive, got " + std::to_string(budget));
  recent_ = rule == ScoreRule::Accumulated ? std::clamp(config.recent_window, 0, budget) : 0;
}

void SecureScoreEviction::begin(int layers, int) {
  if (layers < 1) throw std::invalid_argument(name() + ": need at least one layer");
  scores_.assign(static_cast<std::size_t>(layers), {});
}

void SecureScoreEviction::adopt_scores(int layer, std::vector<Share> per_kv_head_scores) {
  if (rule_ != ScoreRule::Accumulated) throw std::logic_error("tova keeps no scores between steps");
  if (static_cast<int>(per_kv_head_scores.size()) != kv_heads_)
    throw std::invalid_argument("h2o: adopt_scores got " + std::to_string(per_kv_head_scores.size()) +
                                " heads, expected " + std::to_string(kv_heads_));
  for (const Share& s : per_kv_head_scores) {
    if (s.rows() != 1 || s.cols() != per_kv_head_scores.front().cols())
      throw std::invalid_argument("h2o: adopted scores must be one 1 x rows share per key/value head");
  }
  scores_.at(static_cast<std::size_t>(layer)) = std::move(per_kv_head_scores);
}

void SecureScoreEviction::on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) {
  const int rows = cache.rows();
  if (cache.kv_heads() != kv_heads_)
    throw std::invalid_argument(name() + ": cache has " + std::to_string(cache.kv_heads()) + " heads, expected " +
                                std::to_string(kv_heads_));
  if (rows > budget_)
    throw std::logic_error(name() + ": the cache of layer " + std::to_string(layer) + " holds " + std::to_string(rows) +
                           " rows, above the budget " + std::to_string(budget_) +
                           "; prompt-time eviction must be applied by the cache source");
  if (rule_ != ScoreRule::Accumulated) return;
  auto& scores = scores_.at(static_cast<std::size_t>(layer));
  if (!prompt.empty()) {
    score_prompt(layer, prompt, cache);
  } else if (scores.empty()) {
    // An adopted cache without adopted scores: its rows start unscored.
    for (int g = 0; g < kv_heads_; ++g) scores.push_back(layout::zeros(ops_.protocol(), 1, rows));
  }
  if (scores.front().cols() != rows)
    throw std::invalid_argument("h2o: layer " + std::to_string(layer) + " has " +
                                std::to_string(scores.front().cols()) + " scores for " + std::to_string(rows) + " rows");
}

// Per key/value head, the sum of the rows of its group's query heads.
std::vector<Share> SecureScoreEviction::group_sums(std::span<const Share> per_query_head) const {
  const Protocol& p = ops_.protocol();
  std::vector<Share> out;
  for (int g = 0; g < kv_heads_; ++g) {
    Share sum = per_query_head[static_cast<std::size_t>(g * group_)];
    for (int h = g * group_ + 1; h < (g + 1) * group_; ++h) sum = p.add(sum, per_query_head[static_cast<std::size_t>(h)]);
    out.push_back(sum);
  }
  return out;
}

// The plaintext H2O votes: the causal attention of every prompt query, summed over the queries
// and the group's heads; the column sums of the prompt pass's probabilities (local).
void SecureScoreEviction::score_prompt(int layer, const PromptAttention& prompt, const SecureLayerCache& cache) {
  const auto scope = profiled(ops_, kProfileSelectionScores);
  const Protocol& p = ops_.protocol();
  const int heads = kv_heads_ * group_;
  const Eigen::Index n = cache.rows();
  if (prompt.heads() != heads || prompt.rows() != n)
    throw std::invalid_argument("h2o: prompt attention of " + std::to_string(prompt.heads()) + " heads over " +
                                std::to_string(prompt.rows()) + " rows, expected " + std::to_string(heads) + " over " +
                                std::to_string(n));
  std::vector<Share> votes;
  for (int h = 0; h < heads; ++h) votes.push_back(p.public_matmul(RingMatrix::Ones(1, n), prompt.head(h)));
  scores_.at(static_cast<std::size_t>(layer)) = group_sums(votes);
}

void SecureScoreEviction::on_append(int layer, std::span<const Share>, SecureLayerCache& cache) {
  if (rule_ != ScoreRule::Accumulated) return;
  auto& scores = scores_.at(static_cast<std::size_t>(layer));
  if (scores.empty()) throw std::logic_error("h2o: layer " + std::to_string(layer) + " has no scores (no prefill?)");
  for (Share& s : scores) {
    const Share parts[] = {s, layout::zeros(ops_.protocol(), 1, 1)};  // the new row has seen no query yet
    s = layout::concat_columns(parts);
  }
  if (scores.front().cols() != cache.rows())
    throw std::logic_error("h2o: layer " + std::to_string(layer) + " scores " + std::to_string(scores.front().cols()) +
                           " rows, the cache holds " + std::to_string(cache.rows()));
}

void SecureScoreEviction::on_attention(int layer, std::span<const Share> probs, SecureLayerCache& cache) {
  const int rows = cache.rows();
  if (static_cast<int>(probs.size()) != kv_heads_ * group_)
    throw std::invalid_argument(name() + ": " + std::to_string(probs.size()) + " probability rows, expected one per query head (" +
                                std::to_string(kv_heads_ * group_) + ")");
  for (const Share& row : probs) {
    if (row.rows() != 1 || row.cols() != rows)
      throw std::invalid_argument(name() + ": probabilities must be 1 x " + std::to_string(rows) + " per query head");
  }
  const auto scope = profiled(ops_, kProfileEviction);
  const std::vector<Share> observed = group_sums(probs);
  std::vector<Share> ranking = observed;
  if (rule_ == ScoreRule::Accumulated) {
    auto& scores = scores_.at(static_cast<std::size_t>(layer));
    if (scores.empty() || scores.front().cols() != rows)
      throw std::logic_error("h2o: layer " + std::to_string(layer) + " scores do not cover the cache (on_append missed?)");
    for (int g = 0; g < kv_heads_; ++g) scores[g] = ops_.protocol().add(scores[g], observed[g]);
    ranking = scores;
  }
  if (rows <= budget_) return;
  if (rows != budget_ + 1)
    throw std::logic_error(name() + ": the cache of layer " + std::to_string(layer) + " holds " + std::to_string(rows) +
                           " rows, one eviction per step only reaches " + std::to_string(budget_));
  remove_rows(layer, evicted_one_hots(ranking, rows), cache);
}

// Per head, the secret one-hot (1 x rows) of the row to evict.
std::vector<Share> SecureScoreEviction::evicted_one_hots(const std::vector<Share>& scores, int rows) {
  const Protocol& p = ops_.protocol();
  const int bits = index_bits(rows);
  RingMatrix row_index_and_penalty(kv_heads_, rows);
  for (int t = 0; t < rows; ++t)
    row_index_and_penalty.col(t).setConstant(static_cast<u64>(t) - (t >= rows - recent_ ? kProtected : 0));
  std::vector<Share> keys;
  for (const Share& s : scores) keys.push_back(p.scale(s, u64{0} - (u64{1} << bits)));  // -score * 2^b
  const Share ordering = p.add_public(layout::concat_rows(keys), row_index_and_penalty);
  const Share one_hot = ops_.argmax(ordering).one_hot;
  std::vector<Share> out;
  for (int g = 0; g < kv_heads_; ++g) out.push_back(layout::rows_of(one_hot, g, 1));
  return out;
}

// Row t of every operand becomes row t + p_t * (row t+1 - row t), p the prefix sums of the evicted
// one-hot: rows before the evicted one stay, later rows move up by one. Integer p: exact, no truncation.
void SecureScoreEviction::remove_rows(int layer, const std::vector<Share>& evicted, SecureLayerCache& cache) {
  Protocol& p = ops_.protocol();
  const Eigen::Index kept = cache.rows() - 1, d = cache.keys.front().value.cols();
  const RingMatrix prefix = prefix_sum_matrix(cache.rows());
  std::vector<Share> bases, shifts, diffs;
  auto queue = [&](const auto& whole, const Share& moves) {  // a Share or a cached GrowingShare
    const Share base = layout::rows_of(whole, 0, kept);
    bases.push_back(base);
    shifts.push_back(moves);
    diffs.push_back(p.sub(layout::rows_of(whole, 1, kept), base));
  };
  std::vector<Share> moves;
  for (const Share& e : evicted) moves.push_back(layout::columns(p.matmul_public(e, prefix), 0, kept));
  for (int g = 0; g < kv_heads_; ++g) {
    const Share per_row = layout::broadcast_column(layout::reshape(moves[g], kept, 1), d);
    queue(cache.keys[g].value, per_row);
    queue(cache.values[g].value, per_row);
  }
  auto& scores = scores_.at(static_cast<std::size_t>(layer));
  if (rule_ == ScoreRule::Accumulated) {
    for (int g = 0; g < kv_heads_; ++g) {
      const Share column = layout::reshape(scores[g], cache.rows(), 1);
      queue(column, layout::reshape(moves[g], kept, 1));
    }
  }
  const std::vector<Share> products = p.mul(shifts, diffs);
  std::vector<Share> moved;
  for (std::size_t i = 0; i < products.size(); ++i) moved.push_back(p.add(bases[i], products[i]));
  const std::vector<FixedOperand> fixed = p.fix(std::span<const Share>(moved.data(), 2 * static_cast<std::size_t>(kv_heads_)));
  for (int g = 0; g < kv_heads_; ++g) {
    cache.keys[g] = fixed[2 * g];
    cache.values[g] = fixed[2 * g + 1];
  }
  if (rule_ == ScoreRule::Accumulated) {
    for (int g = 0; g < kv_heads_; ++g) scores[g] = layout::reshape(moved[2 * kv_heads_ + g], 1, kept);
  }
}

}  // namespace kvcache::secure
