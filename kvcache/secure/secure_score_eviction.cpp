#include "kvcache/secure/secure_score_eviction.hpp"

#include "kvcache/secure/policy_checks.hpp"

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

SecureScoreEviction::SecureScoreEviction(protocols::ops::SecureOps& ops, ScoreRule rule, const PolicyConfig& config)
    : ops_(ops), rule_(rule), config_(config) {
  validate(config_);
}

void SecureScoreEviction::begin(const ModelShape& shape, int prompt_length) {
  checks::expect_argument(shape.layers >= 1 && shape.kv_heads >= 1 && shape.query_heads >= shape.kv_heads, name(),
                          "need at least one layer, key/value head and query head per group");
  SecureCachePolicy::begin(shape, prompt_length);
  counts_ = rule_ == ScoreRule::Accumulated ? rules::h2o_counts(config_, prompt_length) : rules::tova_counts(config_, prompt_length);
  scores_.assign(static_cast<std::size_t>(shape.layers), {});
}

void SecureScoreEviction::adopt_prompt_state(const PromptStateSource& source) {
  if (rule_ != ScoreRule::Accumulated) return;  // TOVA keeps no scores between steps
  std::vector<std::vector<std::vector<double>>> known;
  if (source.known())
    for (int l = 0; l < source.layers(); ++l) known.push_back(source.accumulated_scores(l));
  adopted_.emplace(source.owner(), std::move(known));
}

// Per key/value head, 1 x rows: the adopted scores of `layer`, input by the source's owner.
std::vector<Share> SecureScoreEviction::input_adopted_scores(int layer, int rows) const {
  const auto& [owner, known] = *adopted_;
  Protocol& p = ops_.protocol();
  std::vector<Share> scores;
  for (int g = 0; g < shape_.kv_heads; ++g) {
    std::optional<RingMatrix> mine;
    if (!known.empty()) {
      const std::vector<double>& s = known.at(static_cast<std::size_t>(layer)).at(static_cast<std::size_t>(g));
      checks::expect_count(name(), "adopted scores", static_cast<long long>(s.size()), rows);
      mine = p.fixed_point().encode(FloatMatrix(Eigen::Map<const Eigen::RowVectorXd>(s.data(), rows)));
    }
    scores.push_back(p.input(owner, mine ? &*mine : nullptr, 1, rows));
  }
  return scores;
}

void SecureScoreEviction::on_prefill(int layer, const PromptAttention& prompt, SecureLayerCache& cache) {
  const int rows = cache.rows();
  checks::expect_count(name(), "key/value heads in the cache", cache.kv_heads(), shape_.kv_heads);
  checks::expect_state(rows <= counts_.capacity, name(),
                       "the cache of layer " + std::to_string(layer) + " holds " + std::to_string(rows) +
                           " rows, above the budget " + std::to_string(counts_.capacity) +
                           "; prompt-time eviction must be applied by the cache source");
  if (rule_ != ScoreRule::Accumulated) return;
  auto& scores = scores_.at(static_cast<std::size_t>(layer));
  if (!prompt.empty()) {
    score_prompt(layer, prompt, cache);
  } else if (adopted_) {
    scores = input_adopted_scores(layer, rows);
  } else if (scores.empty()) {
    // An adopted cache without adopted scores: its rows start unscored.
    for (int g = 0; g < shape_.kv_heads; ++g) scores.push_back(layout::zeros(ops_.protocol(), 1, rows));
  }
  checks::expect_covers(name(), "the scores", layer, scores.front().cols(), rows);
}

// Per key/value head, the sum of the rows of its group's query heads.
std::vector<Share> SecureScoreEviction::group_sums(std::span<const Share> per_query_head) const {
  const Protocol& p = ops_.protocol();
  std::vector<Share> out;
  for (int g = 0; g < shape_.kv_heads; ++g) {
    Share sum = per_query_head[static_cast<std::size_t>(g * shape_.group())];
    for (int h = g * shape_.group() + 1; h < (g + 1) * shape_.group(); ++h) sum = p.add(sum, per_query_head[static_cast<std::size_t>(h)]);
    out.push_back(sum);
  }
  return out;
}

// The plaintext H2O votes: the causal attention of every prompt query, summed over the queries
// and the group's heads; the column sums of the prompt pass's probabilities (local).
void SecureScoreEviction::score_prompt(int layer, const PromptAttention& prompt, const SecureLayerCache& cache) {
  const auto scope = profiled(ops_, kProfileSelectionScores);
  const Protocol& p = ops_.protocol();
  const int heads = shape_.query_heads;
  const Eigen::Index n = cache.rows();
  checks::expect_count(name(), "heads of prompt attention", prompt.heads(), heads);
  checks::expect_count(name(), "rows of prompt attention", prompt.rows(), n);
  std::vector<Share> votes;
  for (int h = 0; h < heads; ++h) votes.push_back(p.public_matmul(RingMatrix::Ones(1, n), prompt.head(h)));
  scores_.at(static_cast<std::size_t>(layer)) = group_sums(votes);
}

void SecureScoreEviction::on_append(int layer, std::span<const Share>, SecureLayerCache& cache) {
  if (rule_ != ScoreRule::Accumulated) return;
  auto& scores = scores_.at(static_cast<std::size_t>(layer));
  checks::expect_state(!scores.empty(), name(), "layer " + std::to_string(layer) + " has no scores (no prefill?)");
  for (Share& s : scores) {
    const Share parts[] = {s, layout::zeros(ops_.protocol(), 1, 1)};  // the new row has seen no query yet
    s = layout::concat_columns(parts);
  }
  checks::expect_covers(name(), "the scores", layer, scores.front().cols(), cache.rows());
}

void SecureScoreEviction::on_attention(int layer, std::span<const Share> probs, SecureLayerCache& cache) {
  const int rows = cache.rows();
  checks::expect_head_rows(name(), "probability rows (one per query head)", probs, shape_.query_heads, rows);
  const auto scope = profiled(ops_, kProfileEviction);
  const std::vector<Share> observed = group_sums(probs);
  std::vector<Share> ranking = observed;
  if (rule_ == ScoreRule::Accumulated) {
    auto& scores = scores_.at(static_cast<std::size_t>(layer));
    checks::expect_state(!scores.empty(), name(), "layer " + std::to_string(layer) + " has no scores (no prefill?)");
    checks::expect_covers(name(), "the scores", layer, scores.front().cols(), rows);
    for (int g = 0; g < shape_.kv_heads; ++g) scores[g] = ops_.protocol().add(scores[g], observed[g]);
    ranking = scores;
  }
  if (rows <= counts_.capacity) return;
  checks::expect_state(rows == counts_.capacity + 1, name(),
                       "the cache of layer " + std::to_string(layer) + " holds " + std::to_string(rows) +
                           " rows, one eviction per step only reaches " + std::to_string(counts_.capacity));
  remove_rows(layer, evicted_one_hots(ranking, rows), cache);
}

// Per head, the secret one-hot (1 x rows) of the row to evict.
std::vector<Share> SecureScoreEviction::evicted_one_hots(const std::vector<Share>& scores, int rows) {
  const Protocol& p = ops_.protocol();
  const int bits = index_bits(rows);
  RingMatrix row_index_and_penalty(shape_.kv_heads, rows);
  for (int t = 0; t < rows; ++t)
    row_index_and_penalty.col(t).setConstant(static_cast<u64>(t) - (t >= rows - counts_.recent ? kProtected : 0));
  std::vector<Share> keys;
  for (const Share& s : scores) keys.push_back(p.scale(s, u64{0} - (u64{1} << bits)));  // -score * 2^b
  const Share ordering = p.add_public(layout::concat_rows(keys), row_index_and_penalty);
  const Share one_hot = ops_.argmax(ordering).one_hot;
  std::vector<Share> out;
  for (int g = 0; g < shape_.kv_heads; ++g) out.push_back(layout::rows_of(one_hot, g, 1));
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
  for (int g = 0; g < shape_.kv_heads; ++g) {
    const Share per_row = layout::broadcast_column(layout::reshape(moves[g], kept, 1), d);
    queue(cache.keys[g].value, per_row);
    queue(cache.values[g].value, per_row);
  }
  auto& scores = scores_.at(static_cast<std::size_t>(layer));
  if (rule_ == ScoreRule::Accumulated) {
    for (int g = 0; g < shape_.kv_heads; ++g) {
      const Share column = layout::reshape(scores[g], cache.rows(), 1);
      queue(column, layout::reshape(moves[g], kept, 1));
    }
  }
  const std::vector<Share> products = p.mul(shifts, diffs);
  std::vector<Share> moved;
  for (std::size_t i = 0; i < products.size(); ++i) moved.push_back(p.add(bases[i], products[i]));
  const std::vector<FixedOperand> fixed = p.fix(std::span<const Share>(moved.data(), 2 * static_cast<std::size_t>(shape_.kv_heads)));
  for (int g = 0; g < shape_.kv_heads; ++g) {
    cache.keys[g] = fixed[2 * g];
    cache.values[g] = fixed[2 * g + 1];
  }
  if (rule_ == ScoreRule::Accumulated) {
    for (int g = 0; g < shape_.kv_heads; ++g) scores[g] = layout::reshape(moved[2 * shape_.kv_heads + g], 1, kept);
  }
}

}  // namespace kvcache::secure
