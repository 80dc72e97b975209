// A minimal stand-in for the transformer engine: drives a CachePolicy through the documented call
// sequence with keys, values and queries supplied by the test.
#pragma once

#include "kvcache/attention.hpp"
#include "kvcache/policy.hpp"

#include <vector>

namespace kvcache::testing {

class FakeEngine {
 public:
  FakeEngine(CachePolicy& policy, ModelShape shape, int prompt_length) : policy_(policy), shape_(shape) {
    policy_.begin(shape_, prompt_length);
    layers_.resize(static_cast<std::size_t>(shape_.layers));
    for (int l = 0; l < shape_.layers; ++l) {
      layers_[l].layer = l;
      layers_[l].heads.resize(static_cast<std::size_t>(shape_.kv_heads));
    }
  }

  // keys/values: one n x d matrix per kv head; queries: one n x d matrix per query head.
  void prefill(int layer, const std::vector<FloatMatrix>& keys, const std::vector<FloatMatrix>& values,
               const std::vector<FloatMatrix>& queries) {
    LayerCache& cache = layers_.at(layer);
    for (int g = 0; g < shape_.kv_heads; ++g) {
      for (Eigen::Index r = 0; r < keys[g].rows(); ++r) cache.heads[g].append(keys[g].row(r), values[g].row(r), int(r));
    }
    policy_.on_prefill(layer, queries, cache);
  }

  // key/value: one row per kv head; query: one 1 x d matrix per query head. Returns the outputs.
  std::vector<FloatMatrix> decode(int layer, const std::vector<Eigen::RowVectorXd>& key,
                                  const std::vector<Eigen::RowVectorXd>& value, const std::vector<FloatMatrix>& query,
                                  int position) {
    LayerCache& cache = layers_.at(layer);
    for (int g = 0; g < shape_.kv_heads; ++g) cache.heads[g].append(key[g], value[g], position);
    policy_.on_append(layer, cache);
    last_selection_ = policy_.select(layer, query, cache);
    std::vector<FloatMatrix> out;
    std::vector<Eigen::RowVectorXd> probs;
    const int group = shape_.query_heads / shape_.kv_heads;
    const bool custom = policy_.attend(layer, query, cache, last_selection_, out);
    for (int h = 0; h < shape_.query_heads; ++h) {
      const AttentionResult dense = dense_attention(query[h].row(0), cache.heads[h / group], last_selection_.rows[h / group]);
      probs.push_back(dense.probs);
      if (!custom) out.push_back(dense.output);
    }
    policy_.on_attention(layer, probs, last_selection_, cache);
    return out;
  }

  LayerCache& layer(int l) { return layers_.at(l); }
  const Selection& last_selection() const { return last_selection_; }

 private:
  CachePolicy& policy_;
  ModelShape shape_;
  std::vector<LayerCache> layers_;
  Selection last_selection_;
};

// Builds an n x d matrix from rows given as initializer lists.
inline FloatMatrix rows_of(std::initializer_list<std::initializer_list<double>> rows) {
  FloatMatrix m(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(rows.begin()->size()));
  Eigen::Index r = 0;
  for (const auto& row : rows) {
    Eigen::Index c = 0;
    for (double v : row) m(r, c++) = v;
    ++r;
  }
  return m;
}

inline Eigen::RowVectorXd row(std::initializer_list<double> values) { return rows_of({values}).row(0); }

inline FloatMatrix one_row(std::initializer_list<double> values) { return rows_of({values}); }

}  // namespace kvcache::testing
