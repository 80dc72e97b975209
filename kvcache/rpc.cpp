#include "kvcache/rpc.hpp"

#include "kvcache/attention.hpp"
#include "kvcache/selection_util.hpp"
#include "kvcache/snapkv.hpp"

#include <cmath>
#include <stdexcept>

namespace kvcache {

void RpcPolicy::begin(const ModelShape& shape, int prompt_length) {
  CachePolicy::begin(shape, prompt_length);
  query_group_size(shape);
  selector_.assign(static_cast<std::size_t>(shape.layers), {});
  since_compression_.assign(static_cast<std::size_t>(shape.layers), 0);
}

void RpcPolicy::on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) {
  check_queries(queries, shape_, "rpc");
  const int capacity = total_budget(config_, prompt_length_, config_.observation_window);
  for (int g = 0; g < cache.kv_heads(); ++g) {
    cache.heads[g].keep(snapkv_keep_rows(queries, cache.heads[g], g, shape_, capacity, config_));
  }
}

Selection RpcPolicy::select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) {
  check_queries(query, shape_, "rpc");
  if (cache.heads.empty() || cache.heads.front().size() == 0) throw std::logic_error("rpc: select on an empty cache");
  RecordedQuery recorded{cache.heads.front().positions.back(), {}};
  for (const auto& q : query) recorded.heads.push_back(q.row(0));
  auto& window = selector_.at(layer);
  window.push_back(std::move(recorded));
  if (static_cast<int>(window.size()) > config_.rpc_selector_window) window.pop_front();
  return Selection::all(cache.kv_heads());
}

void RpcPolicy::on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const Selection& selection,
                             LayerCache& cache) {
  if (++since_compression_.at(layer) < config_.rpc_period) return;
  since_compression_[layer] = 0;
  compress(layer, cache);
}

void RpcPolicy::compress(int layer, LayerCache& cache) const {
  const auto& window = selector_.at(layer);
  if (window.empty()) return;
  const int group = query_group_size(shape_);
  const int first_selector = window.front().position;
  std::vector<int> query_positions;
  for (const auto& q : window) query_positions.push_back(q.position);
  for (int g = 0; g < cache.kv_heads(); ++g) {
    HeadCache& head = cache.heads[g];
    std::vector<double> votes(static_cast<std::size_t>(head.size()), 0.0);
    for (int h = g * group; h < (g + 1) * group; ++h) {
      FloatMatrix queries(static_cast<Eigen::Index>(window.size()), shape_.head_dim);
      for (std::size_t i = 0; i < window.size(); ++i) queries.row(static_cast<Eigen::Index>(i)) = window[i].heads[h];
      const Eigen::RowVectorXd sums =
          causal_attention_probs(queries, query_positions, head.keys, head.positions).colwise().sum();
      for (int r = 0; r < head.size(); ++r) votes[r] += sums[r];
    }
    std::vector<int> candidates, fixed;
    for (int r = 0; r < head.size(); ++r) {
      const int pos = head.positions[r];
      (pos >= prompt_length_ && pos < first_selector ? candidates : fixed).push_back(r);
    }
    std::vector<double> candidate_votes;
    for (int r : candidates) candidate_votes.push_back(votes[r]);
    const int keep = static_cast<int>(std::lround(config_.rpc_keep_fraction * static_cast<double>(candidates.size())));
    std::vector<int> kept;
    for (int i : top_k(candidate_votes, keep)) kept.push_back(candidates[i]);
    head.keep(merge_sorted(fixed, kept));
  }
}

}  // namespace kvcache
