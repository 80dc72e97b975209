// The static (look-once) eviction of MPCache on shares: the secure counterpart of
// MpcachePolicy::static_keep_rows (kvcache/mpcache_policy.cpp), run once per layer after the
// prompt's keys and values are cached. Which rows are kept stays secret; how many rows are kept,
// and that the sinks and the newest `recent` rows are among them, is public.
//
// The last W prompt queries of every query head vote with their causal attention (one softmax
// over all heads' rows, public causal mask); the votes are summed over ALL query heads, so every
// key/value head keeps the same rows. Kept: the first `sinks` rows, the last `recent` rows and the
// top-voted rows between them (the observation window's rows compete too), in position order,
// `capacity` rows in all.
//
// Cost, every head in the same rounds (the number of rounds depends on n and capacity only):
//  - votes: none on a private prefill (the window rows of the prompt pass's own attention); else
//    one matmul_fixed_transposed round (only the window queries are opened), one truncation, one
//    softmax over (heads * W) x n;
//  - top-k of the middle rows: SecureOps::top_k (bitonic network) with k = capacity - sinks - recent;
//  - position order: no second sort. The kept mask b of the middle is the column sum of the
//    top-k one-hot (local), the rank of each row its prefix sum (local), one one_hot of the ranks
//    and one multiplication by b give the rows of the position-ordered one-hot;
//  - compaction: one matmul_fixed round for all heads' keys and values (only the one-hot is
//    opened), then one fix() round to mask the new cache.
#pragma once

#include "kvcache/policy_config.hpp"
#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "protocols/ops/secure_ops.hpp"

#include <span>

namespace kvcache::secure {

// The public counts of one static eviction (the same for every layer and head), as the plaintext
// MpcachePolicy uses them: kvcache::rules::mpcache_static_counts.
using StaticEvictionParams = rules::StaticEvictionCounts;

// Votes of every cached row (1 x n, fixed point): the causal attention probabilities of the last
// `window` query rows of every query head, summed over the window and over ALL query heads (the
// plaintext head average times the number of query heads).
//  - From the prompt pass's own probabilities (a private prefill): one local product, no round.
Share static_eviction_votes(const protocols::Protocol& proto, const PromptAttention& prompt, int window);
//  - Recomputed from the window's queries (the cost of static eviction without a prefill pass, as
//    bench/kvcache measures it): one product round (only the window queries are opened), one
//    truncation and one softmax over (heads * W) x n. `queries`: per query head at least `window`
//    rows (the last rows are the prompt's last positions), scaled by 1/sqrt(head_dim) as the
//    attention uses them; query head h reads key/value head h / (query heads / key/value heads).
Share static_eviction_votes(protocols::ops::SecureOps& ops, std::span<const Share> queries,
                            const SecureLayerCache& cache, int window);

// The capacity x n one-hot (integers) of the kept rows in increasing position order; the n x n
// identity when capacity >= n. `votes`: 1 x n as above, summed over `heads` query heads (which
// bounds them). Throws std::invalid_argument on inconsistent counts or inputs.
Share static_keep_matrix(protocols::ops::SecureOps& ops, const Share& votes, int heads, const SecureLayerCache& cache,
                         const StaticEvictionParams& params);

// Replaces every head's keys and values by keep . rows (keep: k x n one-hot of integers).
void compact(protocols::Protocol& proto, const Share& keep, SecureLayerCache& cache);

// static_keep_matrix then compact; nothing happens when capacity >= n.
// Several layers at once (one vote row and one cache each, equal lengths): every layer in the
// rounds of one (one top-k over a row per layer, one equality batch, one compaction round, one
// masking round), instead of those rounds once per layer.
void secure_static_eviction(protocols::ops::SecureOps& ops, std::span<const Share> votes, int heads,
                            std::span<SecureLayerCache* const> caches, const StaticEvictionParams& params);
// The same where layer l keeps the rows that vote row vote_of[l] chooses (layers sharing one
// choice): one top-k per vote row, one compaction round for all layers.
void secure_static_eviction(protocols::ops::SecureOps& ops, std::span<const Share> votes, int heads,
                            std::span<SecureLayerCache* const> caches, std::span<const int> vote_of,
                            const StaticEvictionParams& params);
void secure_static_eviction(protocols::ops::SecureOps& ops, const Share& votes, int heads, SecureLayerCache& cache,
                            const StaticEvictionParams& params);

}  // namespace kvcache::secure
