// The layout changes of a decode step whose cache policy narrows the attending rows
// (kvcache/secure/secure_cache_policy.hpp, Selection): scores of the whole cache to the
// attending rows' scores, and the attending rows' probabilities back to the whole cache. The
// chosen groups move by one product with each head's secret group one-hot (integers: exact).
#pragma once

#include "kvcache/secure/secure_cache_policy.hpp"
#include "protocols/ops/secure_ops.hpp"
#include "protocols/protocol.hpp"

namespace model::secure {

// heads x cache rows -> heads x attending rows: [chosen groups' rows | public rows]. Query head h
// reads the one-hot of key/value head h / group.
protocols::Share attending_scores(protocols::Protocol& proto, int heads, int group, const protocols::Share& scores,
                                  const kvcache::secure::Selection& rows);
// The inverse layout: heads x attending rows -> heads x cache rows, zeros where no row attended.
protocols::Share spread_probabilities(protocols::Protocol& proto, int heads, int group, const protocols::Share& probs,
                                      const kvcache::secure::Selection& rows, Eigen::Index cache_rows);

// Softmax over the attending rows only (heads x cache rows in and out, 0 where no row attended):
// attending_scores, the softmax, spread_probabilities; the layout work is profiled as the
// selection's gathering, the softmax as attention.softmax. |scores| < 2^(value_bits - 2).
protocols::Share softmax_over_attending(protocols::ops::SecureOps& ops, int heads, int group, const protocols::Share& scores,
                                        const kvcache::secure::Selection& rows, int value_bits = 64);

}  // namespace model::secure
