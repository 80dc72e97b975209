#include "kvcache/keydiff.hpp"

#include "kvcache/selection_util.hpp"

#include <algorithm>

namespace kvcache {

namespace {

FloatMatrix normalised_rows(const FloatMatrix& keys) {
  FloatMatrix out = keys;
  for (Eigen::Index r = 0; r < out.rows(); ++r) {
    const double norm = out.row(r).norm();
    if (norm > 0.0) out.row(r) /= norm;
  }
  return out;
}

}  // namespace

std::vector<double> keydiff_similarity(mpc::FloatView keys) {
  const FloatMatrix unit = normalised_rows(keys);
  const Eigen::RowVectorXd anchor = unit.colwise().mean();
  const double anchor_norm = anchor.norm();
  std::vector<double> similarity(static_cast<std::size_t>(keys.rows()), 0.0);
  if (anchor_norm == 0.0) return similarity;
  for (Eigen::Index r = 0; r < unit.rows(); ++r) similarity[r] = unit.row(r).dot(anchor) / anchor_norm;
  return similarity;
}

void KeyDiffPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  capacity_ = total_budget(config_, prompt_length, config_.sinks + config_.recent_window);
  sinks_ = std::clamp(config_.sinks, 0, capacity_);
  recent_ = std::clamp(config_.recent_window, 0, capacity_ - sinks_);
}

void KeyDiffPolicy::evict(LayerCache& cache) const {
  for (auto& head : cache.heads) {
    const int size = head.size();
    if (size <= capacity_) continue;
    const int middle_end = size - recent_;
    const std::vector<double> all = keydiff_similarity(head.keys);
    const std::vector<double> middle(all.begin() + sinks_, all.begin() + middle_end);
    std::vector<int> kept = bottom_k(middle, capacity_ - sinks_ - recent_);
    for (int& row : kept) row += sinks_;
    head.keep(merge_sorted(merge_sorted(index_range(0, sinks_), kept), index_range(middle_end, size)));
  }
}

void KeyDiffPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  evict(cache);
}

void KeyDiffPolicy::on_append(int layer, LayerCache& cache) { evict(cache); }

}  // namespace kvcache
