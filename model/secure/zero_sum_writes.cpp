#include "model/secure/zero_sum_writes.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <vector>

namespace model::secure {

mpc::RingMatrix encode_zero_sum_rows(const mpc::FloatMatrix& m, const mpc::FixedPoint& fp) {
  const double scale = std::ldexp(1.0, fp.frac_bits());
  mpc::RingMatrix out(m.rows(), m.cols());
  std::vector<double> exact(static_cast<std::size_t>(m.cols()));
  std::vector<std::int64_t> rounded(exact.size());
  std::vector<std::size_t> order(exact.size());
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    const double mean = m.row(i).mean();
    std::int64_t sum = 0;
    for (std::size_t j = 0; j < exact.size(); ++j) {
      exact[j] = (m(i, static_cast<Eigen::Index>(j)) - mean) * scale;
      rounded[j] = std::llround(exact[j]);
      sum += rounded[j];
    }
    // |sum| < cols / 2: move that many entries by one unit, those rounded furthest the wrong way.
    std::iota(order.begin(), order.end(), std::size_t{0});
    const std::int64_t step = sum > 0 ? -1 : 1;
    const auto count = static_cast<std::ptrdiff_t>(std::min<std::uint64_t>(static_cast<std::uint64_t>(std::llabs(sum)), exact.size()));
    std::partial_sort(order.begin(), order.begin() + count, order.end(), [&](std::size_t a, std::size_t b) {
      return static_cast<double>(step) * (exact[a] - static_cast<double>(rounded[a])) >
             static_cast<double>(step) * (exact[b] - static_cast<double>(rounded[b]));
    });
    for (std::ptrdiff_t k = 0; k < count; ++k) rounded[order[static_cast<std::size_t>(k)]] += step;
    for (std::size_t j = 0; j < exact.size(); ++j) out(i, static_cast<Eigen::Index>(j)) = static_cast<mpc::u64>(rounded[j]);
  }
  return out;
}

}  // namespace model::secure
