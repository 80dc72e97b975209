#include "kvcache/selection_util.hpp"

#include "kvcache/attention.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>
#include <string>

namespace kvcache {

namespace {

std::vector<int> ranked_k(const std::vector<double>& scores, int k, bool largest) {
  std::vector<int> order = index_range(0, static_cast<int>(scores.size()));
  k = std::clamp(k, 0, static_cast<int>(scores.size()));
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) {
    return largest ? scores[a] > scores[b] : scores[a] < scores[b];
  });
  order.resize(k);
  std::sort(order.begin(), order.end());
  return order;
}

}  // namespace

std::vector<int> top_k(const std::vector<double>& scores, int k) { return ranked_k(scores, k, true); }

std::vector<int> bottom_k(const std::vector<double>& scores, int k) { return ranked_k(scores, k, false); }

int ratio_count(int total, double ratio) { return std::max(1, static_cast<int>(std::floor(total * ratio + 1e-9))); }

std::vector<int> index_range(int begin, int end) {
  std::vector<int> out(static_cast<std::size_t>(std::max(0, end - begin)));
  std::iota(out.begin(), out.end(), begin);
  return out;
}

std::vector<int> merge_sorted(const std::vector<int>& a, const std::vector<int>& b) {
  std::vector<int> out;
  std::set_union(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

int query_group_size(const ModelShape& shape) {
  if (shape.kv_heads <= 0 || shape.query_heads <= 0 || shape.query_heads % shape.kv_heads != 0) {
    throw std::invalid_argument("cache policy: query heads (" + std::to_string(shape.query_heads) +
                                ") must be a positive multiple of key/value heads (" + std::to_string(shape.kv_heads) +
                                ")");
  }
  return shape.query_heads / shape.kv_heads;
}

void check_queries(const std::vector<FloatMatrix>& queries, const ModelShape& shape, const char* who) {
  if (static_cast<int>(queries.size()) != shape.query_heads) {
    throw std::invalid_argument(std::string(who) + ": expected " + std::to_string(shape.query_heads) +
                                " query heads, got " + std::to_string(queries.size()));
  }
  for (const auto& q : queries) {
    if (q.cols() != shape.head_dim) {
      throw std::invalid_argument(std::string(who) + ": query width " + std::to_string(q.cols()) + " != head_dim " +
                                  std::to_string(shape.head_dim));
    }
  }
}

std::vector<double> window_votes(const std::vector<FloatMatrix>& queries, const HeadCache& head, int kv_head,
                                 const ModelShape& shape, int window) {
  const int group = query_group_size(shape);
  std::vector<double> votes(static_cast<std::size_t>(head.size()), 0.0);
  for (int h = kv_head * group; h < (kv_head + 1) * group; ++h) {
    const FloatMatrix& q = queries[h];
    const int w = std::clamp(window, 1, static_cast<int>(q.rows()));
    const int first = static_cast<int>(q.rows()) - w;
    // The prompt queries are at positions 0..n-1, so the window's positions are first..n-1. The
    // window goes in blocks of rows: only column sums are kept, so a long prompt's window x n
    // probabilities never exist at once.
    constexpr int kBlockRows = 256;
    for (int block = 0; block < w; block += kBlockRows) {
      const int rows = std::min(kBlockRows, w - block);
      const FloatMatrix probs = causal_attention_probs(q.middleRows(first + block, rows),
                                                       index_range(first + block, first + block + rows), head.keys,
                                                       head.positions);
      const Eigen::RowVectorXd column_sums = probs.colwise().sum();
      for (int j = 0; j < head.size(); ++j) votes[j] += column_sums[j];
    }
  }
  return votes;
}

std::vector<double> pool_1d(const std::vector<double>& values, int kernel, const std::string& mode) {
  if (kernel <= 0 || kernel % 2 == 0) throw std::invalid_argument("pool_1d: kernel must be odd and positive");
  if (mode != "max" && mode != "avg") throw std::invalid_argument("pool_1d: mode must be \"max\" or \"avg\"");
  const int n = static_cast<int>(values.size());
  const int half = kernel / 2;
  std::vector<double> out(values.size());
  for (int i = 0; i < n; ++i) {
    const int lo = std::max(0, i - half);
    const int hi = std::min(n - 1, i + half);
    double acc = mode == "max" ? values[lo] : 0.0;
    for (int j = lo; j <= hi; ++j) acc = mode == "max" ? std::max(acc, values[j]) : acc + values[j];
    out[i] = mode == "max" ? acc : acc / (hi - lo + 1);
  }
  return out;
}

}  // namespace kvcache
