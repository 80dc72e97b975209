// Plaintext KV storage of one layer: per key/value head, the cached rows in the order they were
// written, with the original token position of each row. Policies evict per head, so heads may
// hold different rows.
#pragma once

#include "mpc/growing_rows.hpp"
#include "mpc/ring.hpp"

#include <vector>

namespace kvcache {

using mpc::FloatMatrix;

struct HeadCache {
  // Grown by one row per decode step without copying the cache (GrowingRows doubles its block).
  mpc::GrowingRows<double> keys;    // rows() == size(), head_dim columns (post-RoPE keys for RoPE models)
  mpc::GrowingRows<double> values;  // same rows
  std::vector<int> positions;  // original token position of each row

  int size() const { return static_cast<int>(positions.size()); }
  void append(const Eigen::RowVectorXd& key, const Eigen::RowVectorXd& value, int position);
  // Keeps only `rows` (strictly increasing indices into the current rows), in that order.
  void keep(const std::vector<int>& rows);
};

struct LayerCache {
  int layer = 0;
  std::vector<HeadCache> heads;  // one per key/value head

  int kv_heads() const { return static_cast<int>(heads.size()); }
};

}  // namespace kvcache
