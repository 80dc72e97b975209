#include "kvcache/attention.hpp"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace kvcache {

Eigen::RowVectorXd softmax(const Eigen::RowVectorXd& logits) {
  if (logits.size() == 0) throw std::invalid_argument("softmax: empty input");
  const Eigen::RowVectorXd shifted = (logits.array() - logits.maxCoeff()).exp().matrix();
  return shifted / shifted.sum();
}

namespace {

void check_width(const Eigen::RowVectorXd& query, const HeadCache& head) {
  if (query.size() != head.keys.cols()) {
    throw std::invalid_argument("dense_attention: query width " + std::to_string(query.size()) +
                                " differs from key width " + std::to_string(head.keys.cols()));
  }
}

}  // namespace

AttentionResult dense_attention(const Eigen::RowVectorXd& query, const HeadCache& head,
                                const std::optional<std::vector<int>>& rows) {
  check_width(query, head);
  const double scale = 1.0 / std::sqrt(static_cast<double>(query.size()));
  AttentionResult result;
  if (!rows) {
    if (head.size() == 0) throw std::invalid_argument("dense_attention: the head holds no rows");
    result.probs = softmax((head.keys * query.transpose()).transpose() * scale);
    result.output = result.probs * head.values;
    return result;
  }
  if (rows->empty()) throw std::invalid_argument("dense_attention: empty row selection");
  Eigen::RowVectorXd logits(static_cast<Eigen::Index>(rows->size()));
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const int row = (*rows)[i];
    if (row < 0 || row >= head.size()) {
      throw std::out_of_range("dense_attention: row " + std::to_string(row) + " outside the cache of " +
                              std::to_string(head.size()) + " rows");
    }
    logits[static_cast<Eigen::Index>(i)] = head.keys.row(row).dot(query) * scale;
  }
  result.probs = softmax(logits);
  result.output = Eigen::RowVectorXd::Zero(head.values.cols());
  for (std::size_t i = 0; i < rows->size(); ++i) {
    result.output += result.probs[static_cast<Eigen::Index>(i)] * head.values.row((*rows)[i]);
  }
  return result;
}

FloatMatrix causal_attention_probs(const FloatMatrix& queries, const std::vector<int>& query_positions,
                                   mpc::FloatView keys, const std::vector<int>& key_positions) {
  if (queries.cols() != keys.cols()) throw std::invalid_argument("causal_attention_probs: query/key widths differ");
  if (static_cast<Eigen::Index>(query_positions.size()) != queries.rows() ||
      static_cast<Eigen::Index>(key_positions.size()) != keys.rows()) {
    throw std::invalid_argument("causal_attention_probs: positions do not match the matrix rows");
  }
  const double scale = 1.0 / std::sqrt(static_cast<double>(queries.cols()));
  // The product alone, then the scale (Eigen would evaluate `(a * b) * s` coefficient by
  // coefficient); the probabilities then replace the logits in place.
  FloatMatrix probs = queries * keys.transpose();
  probs *= scale;
  for (Eigen::Index i = 0; i < queries.rows(); ++i) {
    double max_logit = -std::numeric_limits<double>::infinity();
    for (Eigen::Index j = 0; j < keys.rows(); ++j) {
      if (key_positions[j] <= query_positions[i]) max_logit = std::max(max_logit, probs(i, j));
    }
    if (!std::isfinite(max_logit)) {
      throw std::invalid_argument("causal_attention_probs: query at position " + std::to_string(query_positions[i]) +
                                  " sees no key");
    }
    double total = 0.0;
    for (Eigen::Index j = 0; j < keys.rows(); ++j) {
      double& p = probs(i, j);
      p = key_positions[j] <= query_positions[i] ? std::exp(p - max_logit) : 0.0;
      total += p;
    }
    probs.row(i) /= total;
  }
  return probs;
}

}  // namespace kvcache
