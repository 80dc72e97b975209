// RPC, reasoning path compression (Song et al., 2025): periodic compression of the generated
// tokens. Every `rpc_period` generated tokens, the last `rpc_selector_window` decode queries (the
// selector window) score the cached generated tokens older than the window by their causal
// attention (softmax over the whole cache, summed over the window and the query heads of the
// group); the top `rpc_keep_fraction` of those are kept along with the window. Earlier survivors
// are scored again at the next period. The prompt part is compressed once at prefill exactly as
// SnapKV does (budget, observation window, pooling). Per key/value head.
#pragma once

#include "kvcache/policy_config.hpp"

#include <deque>

namespace kvcache {

class RpcPolicy final : public CachePolicy {
 public:
  explicit RpcPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "rpc"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;
  Selection select(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache) override;
  void on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const Selection& selection,
                    LayerCache& cache) override;

 private:
  struct RecordedQuery {
    int position;
    std::vector<Eigen::RowVectorXd> heads;  // one row per query head
  };
  void compress(int layer, LayerCache& cache) const;

  PolicyConfig config_;
  std::vector<std::deque<RecordedQuery>> selector_;  // [layer], newest last
  std::vector<int> since_compression_;               // [layer] generated tokens since the last compression
};

}  // namespace kvcache
