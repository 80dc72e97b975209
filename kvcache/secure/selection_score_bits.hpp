// The range the secret top-k of the selection policies compares in. Comparisons on w bits pack
// floor(64 / w) values per word (protocols/ops/bit_lanes.hpp), so the range is kept just wide
// enough: at F = 16 fraction bits, 32 bits, two comparisons per word.
#pragma once

#include "mpc/ring.hpp"

namespace kvcache::secure {

// Cluster scores q . (a max + (1 - a) min) and Quest's page bounds are query-key dot products
// (before the 1/sqrt(d) scaling, summed over the query heads sharing a KV head); the selection assumes them below 2^12 = 4096 in magnitude, far
// above the attention logits a softmax can tell apart. A score beyond it makes the comparisons,
// and so the selection, wrong: no error is raised (checking would cost a comparison per score).
constexpr int kSelectionScoreIntegerBits = 12;

// top_k's value_bits: it needs |x| < 2^(value_bits - 2), and a penalised slot reaches
// 2^(F + 13) + 2^(F + 12) < 2^(F + 14).
inline int selection_value_bits(int frac_bits) { return frac_bits + kSelectionScoreIntegerBits + 4; }

// Subtracted from a slot that must not be chosen: below every admissible score, inside the range.
inline mpc::u64 not_candidate_penalty(int frac_bits) {
  return mpc::u64{1} << (frac_bits + kSelectionScoreIntegerBits + 1);
}

}  // namespace kvcache::secure
