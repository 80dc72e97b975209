#include "eval/perplexity.hpp"

#include "model/sampling.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace eval {

double NllSum::mean() const {
  if (tokens == 0) throw std::logic_error("perplexity of zero scored tokens is undefined");
  return total / tokens;
}

NllSum& NllSum::operator+=(const NllSum& other) {
  total += other.total;
  tokens += other.tokens;
  return *this;
}

double token_nll(const Eigen::RowVectorXd& logits, int target) {
  if (target < 0 || target >= logits.size())
    throw std::out_of_range("target token " + std::to_string(target) + " is outside logits of size " +
                            std::to_string(logits.size()));
  const double top = logits.maxCoeff();
  const double log_sum = top + std::log((logits.array() - top).exp().sum());
  return log_sum - logits[target];
}

NllSum continuation_nll(model::Transformer& engine, std::span<const int> document, int prompt_length,
                        kvcache::CachePolicy* policy, std::vector<int>* predictions) {
  const int length = static_cast<int>(document.size());
  if (prompt_length < 1 || prompt_length >= length)
    throw std::invalid_argument("prompt length " + std::to_string(prompt_length) +
                                " must be at least 1 and shorter than the document (" + std::to_string(length) +
                                " tokens)");
  if (length - 1 > engine.config().max_positions)
    throw std::invalid_argument("document of " + std::to_string(length) + " tokens exceeds the model's context of " +
                                std::to_string(engine.config().max_positions));
  NllSum sum;
  Eigen::RowVectorXd logits = engine.prefill(document.first(static_cast<std::size_t>(prompt_length)), policy);
  for (int next = prompt_length; next < length; ++next) {
    sum.total += token_nll(logits, document[next]);
    if (predictions) predictions->push_back(model::argmax(logits));
    ++sum.tokens;
    // The last token is only a target: it is never fed back.
    if (next + 1 < length) logits = engine.decode(document[next]);
  }
  return sum;
}

}  // namespace eval
