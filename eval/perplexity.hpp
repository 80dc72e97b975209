// Perplexity of a document's continuation under a cache policy: the prompt (the first part of the
// document) is prefilled with the policy, which may evict at that point; the continuation is then
// teacher-forced token by token through decode(), so the policy acts at every step exactly as it
// would while generating.
#pragma once

#include "kvcache/policy.hpp"
#include "model/transformer.hpp"

#include <cmath>
#include <span>
#include <vector>

namespace eval {

struct NllSum {
  double total = 0.0;  // sum of -log p(token | context), natural log
  int tokens = 0;      // tokens scored

  double mean() const;
  double perplexity() const { return std::exp(mean()); }
  NllSum& operator+=(const NllSum& other);
};

// -log softmax(logits)[target], computed stably. Throws std::out_of_range for a bad target.
double token_nll(const Eigen::RowVectorXd& logits, int target);

// Scores document[prompt_length..] given everything before it. Needs 1 <= prompt_length <
// document.size() and the document within the model's context; throws std::invalid_argument
// otherwise. `predictions` (may be null) receives the argmax token at every scored position: all
// of them equal the continuation exactly when greedy generation would reproduce it.
NllSum continuation_nll(model::Transformer& engine, std::span<const int> document, int prompt_length,
                        kvcache::CachePolicy* policy, std::vector<int>* predictions = nullptr);

}  // namespace eval
