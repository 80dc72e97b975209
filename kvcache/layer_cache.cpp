#include "kvcache/layer_cache.hpp"

#include <stdexcept>
#include <string>

namespace kvcache {

void HeadCache::append(const Eigen::RowVectorXd& key, const Eigen::RowVectorXd& value, int position) {
  const bool shaped = size() > 0 || keys.cols() > 0;  // an empty head takes the first row's widths
  if (shaped && (key.size() != keys.cols() || value.size() != values.cols())) {
    throw std::invalid_argument("HeadCache::append: key/value width " + std::to_string(key.size()) + "/" +
                                std::to_string(value.size()) + " does not match the cache width " +
                                std::to_string(keys.cols()) + "/" + std::to_string(values.cols()));
  }
  keys.append(key);
  values.append(value);
  positions.push_back(position);
}

void HeadCache::keep(const std::vector<int>& rows) {
  const int current = size();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i] < 0 || rows[i] >= current) {
      throw std::out_of_range("HeadCache::keep: row " + std::to_string(rows[i]) + " outside [0, " +
                              std::to_string(current) + ")");
    }
    if (i > 0 && rows[i] <= rows[i - 1]) {
      throw std::invalid_argument("HeadCache::keep: rows must be strictly increasing");
    }
  }
  // Rows are strictly increasing, so compacting in place never overwrites a row still to be read.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const int from = rows[i];
    if (from != static_cast<int>(i)) {
      keys.row(static_cast<Eigen::Index>(i)) = keys.row(from);
      values.row(static_cast<Eigen::Index>(i)) = values.row(from);
      positions[i] = positions[from];
    }
  }
  const auto kept = static_cast<Eigen::Index>(rows.size());
  keys.truncate(kept);  // the capacity stays for the rows still to come...
  values.truncate(kept);
  positions.resize(rows.size());
  // ...unless most of it was dropped (a prompt-time eviction): then the block shrinks to the kept
  // rows plus one growth step, so that a compacted cache does not hold the whole prompt's storage.
  const Eigen::Index spare = mpc::GrowingRows<double>::growth_for(kept);
  if (keys.capacity() > 2 * (kept + spare)) {
    keys.shrink_to(kept + spare);
    values.shrink_to(kept + spare);
  }
}

}  // namespace kvcache
