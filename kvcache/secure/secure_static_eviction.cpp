#include "kvcache/secure/secure_static_eviction.hpp"

#include "net/operator_profile.hpp"
#include "protocols/ops/share_layout.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace kvcache::secure {

namespace {

using mpc::RingMatrix;
using mpc::u64;
using protocols::Protocol;
using protocols::ops::SecureOps;
namespace layout = protocols::ops;

const char* const kWho = "secure static eviction: ";

net::ProfileScope eviction_scope(Protocol& p) { return net::ProfileScope(p.mesh().profile(), kProfileEviction); }

Share transposed(const Share& x) {
  return layout::map_share(x, [](const RingMatrix& m) -> RingMatrix { return m.transpose(); });
}

Share sum_of_rows(const Protocol& p, const Share& x) { return p.public_matmul(RingMatrix::Ones(1, x.rows()), x); }

// --- input checks (all on public shapes and counts) ------------------------------------------

void check_cache(const SecureLayerCache& cache) {
  if (cache.kv_heads() < 1) throw std::invalid_argument(std::string(kWho) + "the cache has no key/value heads");
  if (cache.values.size() != cache.keys.size())
    throw std::invalid_argument(std::string(kWho) + std::to_string(cache.keys.size()) + " key heads but " +
                                std::to_string(cache.values.size()) + " value heads");
  const Eigen::Index rows = cache.rows(), dim = cache.keys.front().value.cols();
  for (std::size_t g = 0; g < cache.keys.size(); ++g) {
    if (cache.keys[g].value.rows() != rows || cache.values[g].value.rows() != rows)
      throw std::invalid_argument(std::string(kWho) + "every key/value head must hold " + std::to_string(rows) + " rows");
    if (cache.keys[g].value.cols() != dim)
      throw std::invalid_argument(std::string(kWho) + "every key head must have " + std::to_string(dim) + " columns");
  }
}

void check_queries(std::span<const Share> queries, const SecureLayerCache& cache, int window) {
  const std::size_t kv_heads = cache.keys.size();
  if (queries.empty() || queries.size() % kv_heads != 0)
    throw std::invalid_argument(std::string(kWho) + std::to_string(queries.size()) + " query heads for " +
                                std::to_string(kv_heads) + " key/value heads (need a positive multiple)");
  const Eigen::Index dim = cache.keys.front().value.cols();
  for (const Share& q : queries) {
    if (q.cols() != dim)
      throw std::invalid_argument(std::string(kWho) + "query width " + std::to_string(q.cols()) + " != head_dim " +
                                  std::to_string(dim));
    if (q.rows() < window || q.rows() > cache.rows())
      throw std::invalid_argument(std::string(kWho) + "every query head needs between " + std::to_string(window) +
                                  " (the window) and " + std::to_string(cache.rows()) + " (the cache) rows, got " +
                                  std::to_string(q.rows()));
  }
}

void check_window(int window, int rows) {
  if (window < 1 || window > rows)
    throw std::invalid_argument(std::string(kWho) + "window " + std::to_string(window) + " must be in [1, " +
                                std::to_string(rows) + "]");
}

void check_params(const StaticEvictionParams& params) {
  if (params.window < 1 || params.sinks < 0 || params.middle_kept() < 0)
    throw std::invalid_argument(std::string(kWho) + "need window >= 1, sinks >= 0 and sinks + window <= capacity, got " +
                                "capacity " + std::to_string(params.capacity) + ", sinks " +
                                std::to_string(params.sinks) + ", window " + std::to_string(params.window));
}

// Votes are at most heads * window (each softmax row sums to 1, up to rounding; factor 2 of
// margin): top_k compares them on the bits that bound needs, |vote| < 2^(value_bits - 2).
int vote_value_bits(int heads, int window, int frac_bits) {
  // 2^(w-1) >= 2 * heads * window for w = bits_for_difference(...), so |vote| < 2^(F + w - 1).
  return frac_bits + layout::bits_for_difference(2 * Eigen::Index{heads} * window) + 1;
}

// --- votes ------------------------------------------------------------------------------------

// Row h * W + i is window query i of head h at prompt position n - W + i: it sees columns <= n - W + i.
RingMatrix causal_window_mask(int heads, int window, Eigen::Index rows) {
  RingMatrix mask = RingMatrix::Zero(Eigen::Index{heads} * window, rows);
  for (int h = 0; h < heads; ++h) {
    for (int i = 0; i < window; ++i) mask.row(Eigen::Index{h} * window + i).head(rows - window + i + 1).setOnes();
  }
  return mask;
}

Share votes_of(SecureOps& ops, std::span<const Share> queries, const SecureLayerCache& cache, int window) {
  Protocol& p = ops.protocol();
  const std::size_t group = queries.size() / cache.keys.size();
  std::vector<Share> window_rows;
  std::vector<const FixedOperand*> keys;
  for (std::size_t h = 0; h < queries.size(); ++h) {
    window_rows.push_back(layout::rows_of(queries[h], queries[h].rows() - window, window));
    keys.push_back(&cache.keys[h / group]);
  }
  // Every head's scores in one round (only the window queries are opened), one truncation, and
  // one softmax over all heads' rows: rounds do not grow with the number of heads.
  const std::vector<Share> scores = p.truncate(p.matmul_fixed_transposed(window_rows, keys), p.fixed_point().frac_bits());
  const int heads = static_cast<int>(queries.size());
  const Share probs = ops.softmax(layout::concat_rows(scores), causal_window_mask(heads, window, cache.rows()));
  return sum_of_rows(p, probs);
}

// --- choosing and ordering the middle rows ----------------------------------------------------

// upper(i, j) = [i <= j]: x . upper is the inclusive prefix sum of a row x.
RingMatrix inclusive_prefix(Eigen::Index count) {
  RingMatrix upper = RingMatrix::Zero(count, count);
  for (Eigen::Index j = 0; j < count; ++j) upper.col(j).head(j + 1).setOnes();
  return upper;
}

// The k x m one-hot of the k best-voted middle rows in increasing position order. No second sort:
// with the kept mask b (0/1) and the ranks r = prefix sums of b, a kept row j goes to slot
// r_j - 1 in [0, k), and slot = r_j - 1 + (k + 1)(1 - b_j) sends every other row to a slot >= k
// that matches no output row; the slots are linear in b and r, so one equality test places all.
Share ordered_middle_rows(SecureOps& ops, const Share& middle_votes, Eigen::Index k, int value_bits) {
  Protocol& p = ops.protocol();
  const Eigen::Index m = middle_votes.cols();
  // k x m, best first; equal votes go to the lower index, like the plaintext top_k.
  const Share chosen = ops.top_k(middle_votes, k, value_bits).front();
  const Share kept = sum_of_rows(p, chosen);
  const Share rank = p.matmul_public(kept, inclusive_prefix(m));
  const Share slot = p.add_public(p.sub(rank, p.scale(kept, static_cast<u64>(k + 1))), layout::filled(1, m, static_cast<u64>(k)));
  RingMatrix slot_numbers(m, k);
  for (Eigen::Index c = 0; c < k; ++c) slot_numbers.col(c).setConstant(static_cast<u64>(c));
  // slot in [0, 2k], slot numbers in [0, k): differences within [-(k - 1), 2k], below 2k + 1.
  const Share placed = ops.equal_public(layout::broadcast_column(transposed(slot), k), slot_numbers,
                                        layout::bits_for_difference(2 * k + 1));
  return transposed(placed);
}

// [0 | middle | 0]: the middle rows' one-hot over all n rows.
Share widened(const Protocol& p, const Share& middle, int sinks, int window) {
  std::vector<Share> parts;
  if (sinks > 0) parts.push_back(layout::zeros(p, middle.rows(), sinks));
  parts.push_back(middle);
  if (window > 0) parts.push_back(layout::zeros(p, middle.rows(), window));
  return layout::concat_columns(parts);
}

// Rows [first, first + count) of the n x n identity, as a public sharing.
Share identity_rows(const Protocol& p, Eigen::Index first, Eigen::Index count, Eigen::Index n) {
  RingMatrix rows = RingMatrix::Zero(count, n);
  for (Eigen::Index i = 0; i < count; ++i) rows(i, first + i) = 1;
  return layout::constant(p, rows);
}

Share keep_matrix_of(SecureOps& ops, std::span<const Share> queries, const SecureLayerCache& cache,
                     const StaticEvictionParams& params) {
  Protocol& p = ops.protocol();
  const Eigen::Index n = cache.rows(), k = params.middle_kept();
  std::vector<Share> parts;
  if (params.sinks > 0) parts.push_back(identity_rows(p, 0, params.sinks, n));
  if (k > 0) {
    const Eigen::Index middle = n - params.sinks - params.window;
    const int value_bits = vote_value_bits(static_cast<int>(queries.size()), params.window, p.fixed_point().frac_bits());
    const Share votes = votes_of(ops, queries, cache, params.window);
    const Share middle_rows = ordered_middle_rows(ops, layout::columns(votes, params.sinks, middle), k, value_bits);
    parts.push_back(widened(p, middle_rows, params.sinks, params.window));
  }
  parts.push_back(identity_rows(p, n - params.window, params.window, n));
  return layout::concat_rows(parts);
}

void validate(std::span<const Share> queries, const SecureLayerCache& cache, const StaticEvictionParams& params) {
  check_cache(cache);
  check_params(params);
  check_window(params.window, std::min(cache.rows(), params.capacity));
  check_queries(queries, cache, params.window);
}

void compact_unscoped(Protocol& proto, const Share& keep, SecureLayerCache& cache) {
  check_cache(cache);
  if (keep.rows() < 1 || keep.cols() != cache.rows())
    throw std::invalid_argument(std::string(kWho) + "the keep matrix must be k x " + std::to_string(cache.rows()) +
                                " with k >= 1, got " + std::to_string(keep.rows()) + " x " +
                                std::to_string(keep.cols()));
  std::vector<Share> one_hots;
  std::vector<const FixedOperand*> operands;
  for (auto* heads : {&cache.keys, &cache.values}) {
    for (const FixedOperand& w : *heads) {
      one_hots.push_back(keep);
      operands.push_back(&w);
    }
  }
  // Integers 0/1 times fixed point: the products are the kept rows exactly, no truncation.
  std::vector<FixedOperand> fixed = proto.fix(proto.matmul_fixed(one_hots, operands));
  const std::size_t heads = cache.keys.size();
  for (std::size_t g = 0; g < heads; ++g) {
    cache.keys[g] = std::move(fixed[g]);
    cache.values[g] = std::move(fixed[heads + g]);
  }
}

}  // namespace

StaticEvictionParams static_eviction_params(int prompt_length, const PolicyConfig& config) {
  if (prompt_length < 1)
    throw std::invalid_argument(std::string(kWho) + "prompt length must be positive, got " +
                                std::to_string(prompt_length));
  // MpcachePolicy::begin: the capacity, with sinks and window on top when outside the budget.
  const int observed = static_cast<int>(std::floor(config.mpcache_observation_ratio * prompt_length));
  const int extras = config.window_outside_budget ? config.sinks + std::max(1, observed) : 0;
  StaticEvictionParams params;
  params.capacity =
      std::min(prompt_length, Budget{config.mpcache_static_ratio, 0}.resolve(prompt_length) + extras);
  // MpcachePolicy::static_keep_rows on a cache of the whole prompt.
  params.window = std::clamp(observed, 1, params.capacity);
  params.sinks = std::clamp(config.sinks, 0, params.capacity - params.window);
  return params;
}

Share static_eviction_votes(SecureOps& ops, std::span<const Share> queries, const SecureLayerCache& cache,
                            int window) {
  check_cache(cache);
  check_window(window, cache.rows());
  check_queries(queries, cache, window);
  const auto scope = eviction_scope(ops.protocol());
  return votes_of(ops, queries, cache, window);
}

Share static_keep_matrix(SecureOps& ops, std::span<const Share> queries, const SecureLayerCache& cache,
                         const StaticEvictionParams& params) {
  validate(queries, cache, params);
  const Eigen::Index n = cache.rows();
  if (params.capacity >= n) return identity_rows(ops.protocol(), 0, n, n);
  const auto scope = eviction_scope(ops.protocol());
  return keep_matrix_of(ops, queries, cache, params);
}

void compact(Protocol& proto, const Share& keep, SecureLayerCache& cache) {
  const auto scope = eviction_scope(proto);
  compact_unscoped(proto, keep, cache);
}

void secure_static_eviction(SecureOps& ops, std::span<const Share> queries, SecureLayerCache& cache,
                            const StaticEvictionParams& params) {
  validate(queries, cache, params);
  if (params.capacity >= cache.rows()) return;
  const auto scope = eviction_scope(ops.protocol());
  compact_unscoped(ops.protocol(), keep_matrix_of(ops, queries, cache, params), cache);
}

}  // namespace kvcache::secure
