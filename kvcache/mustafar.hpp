// MUSTAFAR (2025): unstructured per-token magnitude pruning of the KV cache. Once a token leaves
// the dense window of the newest `mustafar_dense_window` tokens, each of its key and value rows
// keeps only its largest-magnitude (1 - s) entries (at least one) and moves to a bitmap sparse
// store; attention is computed directly on that store (`attend`). No token is evicted.
// The HeadCache rows of pruned tokens are overwritten with their pruned values as well, so any
// dense computation over the cache sees the same matrix as the sparse kernel.
#pragma once

#include "kvcache/bitmap_sparse.hpp"
#include "kvcache/policy_config.hpp"

#include <cstddef>

namespace kvcache {

struct KvMemory {
  std::size_t sparse_bytes = 0;  // bitmap store of the pruned tokens (K and V)
  std::size_t dense_bytes = 0;   // dense window (K and V)
  std::size_t full_bytes = 0;    // what the same tokens take fully dense
};

class MustafarPolicy final : public CachePolicy {
 public:
  explicit MustafarPolicy(const PolicyConfig& config) : config_(config) {}
  std::string name() const override { return "mustafar"; }

  void begin(const ModelShape& shape, int prompt_length) override;
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, LayerCache& cache) override;
  void on_append(int layer, LayerCache& cache) override;
  bool attend(int layer, const std::vector<FloatMatrix>& query, const LayerCache& cache, const Selection& selection,
              std::vector<FloatMatrix>& out) override;

  // Entries kept per pruned row for a head dimension.
  int kept_per_row() const;
  KvMemory memory(int layer) const;

 private:
  struct HeadStore {
    BitmapSparseRows keys;
    BitmapSparseRows values;
  };
  void prune_old_rows(int layer, LayerCache& cache);
  Eigen::RowVectorXd attend_head(const Eigen::RowVectorXd& q, const HeadCache& head, const HeadStore& store,
                                 const std::optional<std::vector<int>>& rows) const;

  PolicyConfig config_;
  std::vector<std::vector<HeadStore>> stores_;  // [layer][kv head]; store row r == cache row r
  std::vector<int> cache_rows_;                 // [layer] rows of each head (tokens are never evicted)
};

}  // namespace kvcache
