// Small building blocks shared by the eviction/selection policies: top-k with a deterministic
// tie-break, row-set arithmetic, grouped-query head mapping and observation-window votes.
#pragma once

#include "kvcache/policy.hpp"

#include <vector>

namespace kvcache {

// Indices of the k largest scores, returned in increasing index order. Ties go to the lower index
// so that results are reproducible. k is clamped to [0, scores.size()].
std::vector<int> top_k(const std::vector<double>& scores, int k);

// Indices of the k smallest scores (same conventions as top_k).
std::vector<int> bottom_k(const std::vector<double>& scores, int k);

// floor(total * ratio), but at least one (a small cache still selects something).
int ratio_count(int total, double ratio);


// [begin, end) as a vector.
std::vector<int> index_range(int begin, int end);

// Sorted union of two sorted index sets.
std::vector<int> merge_sorted(const std::vector<int>& a, const std::vector<int>& b);

// Query heads per key/value head; throws on a shape that does not divide.
int query_group_size(const ModelShape& shape);

// Throws if `queries` does not have one matrix per query head with head_dim columns.
void check_queries(const std::vector<FloatMatrix>& queries, const ModelShape& shape, const char* who);

// Votes of the last `window` prompt queries for every row of kv head `kv_head`: the causal
// attention probabilities summed over the window queries and over the query heads of the group.
std::vector<double> window_votes(const std::vector<FloatMatrix>& queries, const HeadCache& head, int kv_head,
                                 const ModelShape& shape, int window);

// 1-D pooling with an odd kernel, stride 1, same length: "max" or "avg" (average over the
// neighbours that exist, so the borders are not diluted by padding).
std::vector<double> pool_1d(const std::vector<double>& values, int kernel, const std::string& mode);

}  // namespace kvcache
