#include "kvcache/mustafar.hpp"

#include "kvcache/attention.hpp"
#include "kvcache/selection_util.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace kvcache {

void MustafarPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  query_group_size(shape);
  stores_.assign(static_cast<std::size_t>(shape.layers),
                 std::vector<HeadStore>(static_cast<std::size_t>(shape.kv_heads),
                                        HeadStore{BitmapSparseRows(shape.head_dim), BitmapSparseRows(shape.head_dim)}));
  cache_rows_.assign(static_cast<std::size_t>(shape.layers), 0);
}

int MustafarPolicy::kept_per_row() const {
  const int pruned = static_cast<int>(std::floor(config_.mustafar_sparsity * shape_.head_dim + 1e-9));
  return std::max(1, shape_.head_dim - pruned);
}

void MustafarPolicy::prune_old_rows(int layer, LayerCache& cache) {
  const int keep = kept_per_row();
  for (int g = 0; g < cache.kv_heads(); ++g) {
    HeadCache& head = cache.heads[g];
    HeadStore& store = stores_.at(layer).at(g);
    if (head.keys.cols() != shape_.head_dim) throw std::invalid_argument("mustafar: key width != head_dim");
    for (int r = store.keys.rows(); r < head.size() - config_.mustafar_dense_window; ++r) {
      head.keys.row(r) = magnitude_prune(head.keys.row(r), keep);
      head.values.row(r) = magnitude_prune(head.values.row(r), keep);
      store.keys.append(head.keys.row(r));
      store.values.append(head.values.row(r));
    }
  }
  cache_rows_.at(layer) = cache.heads.empty() ? 0 : cache.heads.front().size();
}

void MustafarPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  prune_old_rows(layer, cache);
}

void MustafarPolicy::on_append(int layer, LayerCache& cache) { prune_old_rows(layer, cache); }

Eigen::RowVectorXd MustafarPolicy::attend_head(const Eigen::RowVectorXd& q, const HeadCache& head,
                                               const HeadStore& store,
                                               const std::optional<std::vector<int>>& rows) const {
  const std::vector<int> attended = rows ? *rows : index_range(0, head.size());
  if (attended.empty()) throw std::invalid_argument("mustafar: empty row selection");
  const int sparse_rows = store.keys.rows();
  const double scale = 1.0 / std::sqrt(static_cast<double>(q.size()));
  Eigen::RowVectorXd logits(static_cast<Eigen::Index>(attended.size()));
  for (std::size_t i = 0; i < attended.size(); ++i) {
    const int r = attended[i];
    if (r < 0 || r >= head.size()) throw std::out_of_range("mustafar: selected row outside the cache");
    logits[static_cast<Eigen::Index>(i)] = (r < sparse_rows ? store.keys.dot(r, q) : head.keys.row(r).dot(q)) * scale;
  }
  const Eigen::RowVectorXd probs = softmax(logits);
  Eigen::RowVectorXd out = Eigen::RowVectorXd::Zero(head.values.cols());
  for (std::size_t i = 0; i < attended.size(); ++i) {
    const int r = attended[i];
    const double p = probs[static_cast<Eigen::Index>(i)];
    if (r < sparse_rows) {
      store.values.add_scaled(r, p, out);
    } else {
      out += p * head.values.row(r);
    }
  }
  return out;
}

bool MustafarPolicy::attend(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache,
                            const Selection& selection, std::vector<FloatMatrix>& out) {
  check_queries(query, shape_, "mustafar");
  const int group = query_group_size(shape_);
  out.assign(query.size(), FloatMatrix());
  for (int h = 0; h < shape_.query_heads; ++h) {
    const int g = h / group;
    out[h] = attend_head(query[h].row(0), cache.heads.at(g), stores_.at(layer).at(g), selection.rows.at(g));
  }
  return true;
}

KvMemory MustafarPolicy::memory(int layer) const {
  KvMemory memory;
  const std::size_t row_bytes = static_cast<std::size_t>(shape_.head_dim) * sizeof(double);
  for (const HeadStore& store : stores_.at(layer)) {
    memory.sparse_bytes += store.keys.memory_bytes() + store.values.memory_bytes();
    const std::size_t dense_rows = static_cast<std::size_t>(cache_rows_.at(layer) - store.keys.rows());
    memory.dense_bytes += 2 * dense_rows * row_bytes;
    memory.full_bytes += 2 * static_cast<std::size_t>(cache_rows_.at(layer)) * row_bytes;
  }
  return memory;
}

}  // namespace kvcache
