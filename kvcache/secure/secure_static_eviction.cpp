#include "kvcache/secure/secure_static_eviction.hpp"

#include "net/operator_profile.hpp"
#include "protocols/ops/share_layout.hpp"

#include <algorithm>
#include <iterator>
#include <optional>
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
  return protocols::map_components(x, [](const RingMatrix& m) -> RingMatrix { return m.transpose(); });
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
  if (params.window < 1 || params.sinks < 0 || params.recent < 0 || params.middle_kept() < 0)
    throw std::invalid_argument(std::string(kWho) + "need window >= 1, sinks >= 0, recent >= 0 and sinks + recent <= " +
                                "capacity, got capacity " + std::to_string(params.capacity) + ", sinks " +
                                std::to_string(params.sinks) + ", recent " + std::to_string(params.recent) +
                                ", window " + std::to_string(params.window));
}

// Votes are at most heads * window (each softmax row sums to 1, up to rounding; factor 2 of
// margin): top_k compares them on the bits that bound needs, |vote| < 2^(value_bits - 2).
int vote_value_bits(int heads, int window, int frac_bits) {
  // 2^(w-1) >= 2 * heads * window for w = bits_for_difference(...), so |vote| < 2^(F + w - 1).
  return frac_bits + layout::bits_for_difference(2 * Eigen::Index{heads} * window) + 1;
}

// --- votes ------------------------------------------------------------------------------------

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
  // The window's queries are the prompt's last W positions, n - W .. n - 1.
  const Share probs = ops.causal_softmax(layout::concat_rows(scores), heads, cache.rows() - window);
  return sum_of_rows(p, probs);
}

// --- choosing and ordering the middle rows ----------------------------------------------------

// upper(i, j) = [i <= j]: x . upper is the inclusive prefix sum of a row x.
RingMatrix inclusive_prefix(Eigen::Index count) {
  RingMatrix upper = RingMatrix::Zero(count, count);
  for (Eigen::Index j = 0; j < count; ++j) upper.col(j).head(j + 1).setOnes();
  return upper;
}

// Per row of `middle_votes` (one row per layer), the k x m one-hot of its k best-voted middle
// rows in increasing position order; every row in the same rounds. No second sort: with the kept
// mask b (0/1) and the ranks r = prefix sums of b, a kept row j goes to slot r_j - 1 in [0, k),
// and slot = r_j - 1 + (k + 1)(1 - b_j) sends every other row to a slot >= k that matches no
// output row; the slots are linear in b and r, so one equality test places all.
std::vector<Share> ordered_middle_rows(SecureOps& ops, const Share& middle_votes, Eigen::Index k, int value_bits) {
  Protocol& p = ops.protocol();
  const Eigen::Index layers = middle_votes.rows(), m = middle_votes.cols();
  // Per row k x m, best first; equal votes go to the lower index, like the plaintext top_k.
  const std::vector<Share> chosen = ops.top_k(middle_votes, k, value_bits);
  const RingMatrix prefix = inclusive_prefix(m);
  std::vector<Share> slots;
  for (const Share& one_hot : chosen) {
    const Share kept = sum_of_rows(p, one_hot);
    const Share rank = p.matmul_public(kept, prefix);
    const Share slot = p.add_public(p.sub(rank, p.scale(kept, static_cast<u64>(k + 1))), layout::filled(1, m, static_cast<u64>(k)));
    slots.push_back(layout::broadcast_column(transposed(slot), k));
  }
  RingMatrix slot_numbers(layers * m, k);
  for (Eigen::Index c = 0; c < k; ++c) slot_numbers.col(c).setConstant(static_cast<u64>(c));
  // slot in [0, 2k], slot numbers in [0, k): differences within [-(k - 1), 2k], below 2k + 1.
  const Share placed = ops.equal_public(layout::concat_rows(slots), slot_numbers, layout::bits_for_difference(2 * k + 1));
  std::vector<Share> out;
  for (Eigen::Index l = 0; l < layers; ++l) out.push_back(transposed(layout::rows_of(placed, l * m, m)));
  return out;
}

// [0 | middle | 0]: the middle rows' one-hot over all n rows.
Share widened(const Protocol& p, const Share& middle, int sinks, int recent) {
  std::vector<Share> parts;
  if (sinks > 0) parts.push_back(layout::zeros(p, middle.rows(), sinks));
  parts.push_back(middle);
  if (recent > 0) parts.push_back(layout::zeros(p, middle.rows(), recent));
  return layout::concat_columns(parts);
}

// Rows [first, first + count) of the n x n identity, as a public sharing.
Share identity_rows(const Protocol& p, Eigen::Index first, Eigen::Index count, Eigen::Index n) {
  RingMatrix rows = RingMatrix::Zero(count, n);
  for (Eigen::Index i = 0; i < count; ++i) rows(i, first + i) = 1;
  return layout::constant(p, rows);
}

// The keep matrices of several layers (one 1 x n vote row each), in the rounds of one.
std::vector<Share> keep_matrices_of(SecureOps& ops, std::span<const Share> votes, int heads, const StaticEvictionParams& params) {
  Protocol& p = ops.protocol();
  const Eigen::Index n = votes.front().cols(), k = params.middle_kept();
  std::vector<Share> middle_rows;
  if (k > 0) {
    const Eigen::Index middle = params.middle_rows(static_cast<int>(n));
    std::vector<Share> middles;
    for (const Share& v : votes) middles.push_back(layout::columns(v, params.sinks, middle));
    const int value_bits = vote_value_bits(heads, params.window, p.fixed_point().frac_bits());
    middle_rows = ordered_middle_rows(ops, layout::concat_rows(middles), k, value_bits);
  }
  // The sinks' and the recent rows are public and the same in every layer.
  const auto public_rows = [&](Eigen::Index first, int count) {
    return count > 0 ? std::optional(identity_rows(p, first, count, n)) : std::nullopt;
  };
  const std::optional<Share> sink_rows = public_rows(0, params.sinks), recent_rows = public_rows(n - params.recent, params.recent);
  std::vector<Share> keeps;
  for (std::size_t l = 0; l < votes.size(); ++l) {
    std::vector<Share> parts;
    if (sink_rows) parts.push_back(*sink_rows);
    if (k > 0) parts.push_back(widened(p, middle_rows[l], params.sinks, params.recent));
    if (recent_rows) parts.push_back(*recent_rows);
    keeps.push_back(layout::concat_rows(parts));
  }
  return keeps;
}

void validate(const SecureLayerCache& cache, const StaticEvictionParams& params) {
  check_cache(cache);
  check_params(params);
  check_window(params.window, cache.rows());
}

void check_votes(const Share& votes, const SecureLayerCache& cache) {
  if (votes.rows() != 1 || votes.cols() != cache.rows())
    throw std::invalid_argument(std::string(kWho) + "votes must be 1 x " + std::to_string(cache.rows()) + ", got " +
                                std::to_string(votes.rows()) + " x " + std::to_string(votes.cols()));
}

// Every layer's keys and values replaced by keep . rows, all layers in one product round and one
// masking round.
void compact_unscoped(Protocol& proto, std::span<const Share> keeps, std::span<SecureLayerCache* const> caches) {
  std::vector<Share> one_hots;
  std::vector<const FixedOperand*> operands;
  for (std::size_t l = 0; l < caches.size(); ++l) {
    const SecureLayerCache& cache = *caches[l];
    check_cache(cache);
    const Share& keep = keeps[l];
    if (keep.rows() < 1 || keep.cols() != cache.rows())
      throw std::invalid_argument(std::string(kWho) + "the keep matrix must be k x " + std::to_string(cache.rows()) +
                                  " with k >= 1, got " + std::to_string(keep.rows()) + " x " +
                                  std::to_string(keep.cols()));
    for (auto* heads : {&cache.keys, &cache.values}) {
      for (const FixedOperand& w : *heads) {
        one_hots.push_back(keep);
        operands.push_back(&w);
      }
    }
  }
  // Integers 0/1 times fixed point: the products are the kept rows exactly, no truncation.
  std::vector<FixedOperand> fixed = proto.fix(proto.matmul_fixed(one_hots, operands));
  auto next = std::make_move_iterator(fixed.begin());
  for (SecureLayerCache* cache : caches) {
    for (auto* heads : {&cache->keys, &cache->values})
      for (FixedOperand& w : *heads) w = *next++;
  }
}

void check_layers(std::span<const Share> votes, std::span<SecureLayerCache* const> caches, std::span<const int> vote_of,
                  const StaticEvictionParams& params) {
  if (votes.empty() || caches.size() != vote_of.size())
    throw std::invalid_argument(std::string(kWho) + std::to_string(votes.size()) + " vote rows and " +
                                std::to_string(vote_of.size()) + " vote indices for " + std::to_string(caches.size()) +
                                " layers (need at least one vote row and an index per layer)");
  for (std::size_t l = 0; l < caches.size(); ++l) {
    validate(*caches[l], params);
    if (vote_of[l] < 0 || static_cast<std::size_t>(vote_of[l]) >= votes.size())
      throw std::invalid_argument(std::string(kWho) + "layer " + std::to_string(l) + " names vote row " +
                                  std::to_string(vote_of[l]) + " of " + std::to_string(votes.size()));
    check_votes(votes[vote_of[l]], *caches[l]);
    if (caches[l]->rows() != caches.front()->rows())
      throw std::invalid_argument(std::string(kWho) + "every layer must hold the same number of rows");
  }
}

}  // namespace

Share static_eviction_votes(SecureOps& ops, std::span<const Share> queries, const SecureLayerCache& cache,
                            int window) {
  check_cache(cache);
  check_window(window, cache.rows());
  check_queries(queries, cache, window);
  const auto scope = eviction_scope(ops.protocol());
  return votes_of(ops, queries, cache, window);
}

Share static_eviction_votes(const Protocol& proto, const PromptAttention& prompt, int window) {
  check_window(window, static_cast<int>(prompt.rows()));
  // One local product: a row of ones over the window rows of every head's block.
  const Eigen::Index n = prompt.rows();
  RingMatrix window_rows = RingMatrix::Zero(1, Eigen::Index{prompt.heads()} * n);
  for (int h = 0; h < prompt.heads(); ++h) window_rows.block(0, Eigen::Index{h} * n + n - window, 1, window).setOnes();
  return proto.public_matmul(window_rows, prompt.stacked());
}

Share static_keep_matrix(SecureOps& ops, const Share& votes, int heads, const SecureLayerCache& cache,
                         const StaticEvictionParams& params) {
  validate(cache, params);
  check_votes(votes, cache);
  const Eigen::Index n = cache.rows();
  if (params.capacity >= n) return identity_rows(ops.protocol(), 0, n, n);
  const auto scope = eviction_scope(ops.protocol());
  return keep_matrices_of(ops, std::span(&votes, 1), heads, params).front();
}

void compact(Protocol& proto, const Share& keep, SecureLayerCache& cache) {
  const auto scope = eviction_scope(proto);
  SecureLayerCache* const caches[] = {&cache};
  compact_unscoped(proto, std::span(&keep, 1), caches);
}

void secure_static_eviction(SecureOps& ops, std::span<const Share> votes, int heads,
                            std::span<SecureLayerCache* const> caches, std::span<const int> vote_of,
                            const StaticEvictionParams& params) {
  check_layers(votes, caches, vote_of, params);
  if (params.capacity >= caches.front()->rows()) return;
  const auto scope = eviction_scope(ops.protocol());
  const std::vector<Share> keeps = keep_matrices_of(ops, votes, heads, params);
  std::vector<Share> keep_of_layer;
  for (const int v : vote_of) keep_of_layer.push_back(keeps[static_cast<std::size_t>(v)]);
  compact_unscoped(ops.protocol(), keep_of_layer, caches);
}

void secure_static_eviction(SecureOps& ops, std::span<const Share> votes, int heads,
                            std::span<SecureLayerCache* const> caches, const StaticEvictionParams& params) {
  std::vector<int> own(caches.size());
  for (std::size_t l = 0; l < own.size(); ++l) own[l] = static_cast<int>(l);
  secure_static_eviction(ops, votes, heads, caches, own, params);
}

void secure_static_eviction(SecureOps& ops, const Share& votes, int heads, SecureLayerCache& cache,
                            const StaticEvictionParams& params) {
  SecureLayerCache* const caches[] = {&cache};
  secure_static_eviction(ops, std::span(&votes, 1), heads, caches, params);
}

}  // namespace kvcache::secure
