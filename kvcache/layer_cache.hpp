// Plaintext KV storage of one layer: per key/value head, the cached rows in the order they were
// written, with the original token position of each row. Policies evict per head, so heads may
// hold different rows.
#pragma once

#include "mpc/ring.hpp"

#include <vector>

namespace kvcache {

using mpc::FloatMatrix;

struct HeadCache {
  FloatMatrix keys;            // rows() == size(), head_dim columns (post-RoPE keys for RoPE models)
  FloatMatrix values;          // same rows
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
