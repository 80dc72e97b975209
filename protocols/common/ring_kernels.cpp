#include "protocols/common/ring_kernels.hpp"

#include <stdexcept>
#include <string>
#include <thread>

namespace protocols {

namespace {

using mpc::RingMatrix;

// Below this many multiply-adds a second thread costs more than it saves.
constexpr double kParallelWork = 1 << 20;

bool worth_splitting(Eigen::Index m, Eigen::Index k, Eigen::Index n) {
  return static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n) >= kParallelWork;
}

void check_inner(Eigen::Index left, Eigen::Index right, const char* what) {
  if (left != right)
    throw std::invalid_argument(std::string(what) + ": inner dimensions differ (" + std::to_string(left) + " vs " +
                                std::to_string(right) + ")");
}

// Computes out = f(first half) and f(second half) of the output, on two threads.
// Splits rows when there are several, else columns (a single query row at decode time).
template <class RowsFn, class ColsFn>
void split_output(RingMatrix& out, RowsFn rows_fn, ColsFn cols_fn) {
  const Eigen::Index m = out.rows(), n = out.cols();
  if (m >= 2) {
    const Eigen::Index half = m / 2;
    std::thread helper([&] { out.topRows(half) = rows_fn(0, half); });
    out.bottomRows(m - half) = rows_fn(half, m - half);
    helper.join();
  } else {
    const Eigen::Index half = n / 2;
    std::thread helper([&] { out.leftCols(half) = cols_fn(0, half); });
    out.rightCols(n - half) = cols_fn(half, n - half);
    helper.join();
  }
}

}  // namespace

RingMatrix ring_product(mpc::RingView a, mpc::RingView b) {
  check_inner(a.cols(), b.rows(), "ring product");
  if (!worth_splitting(a.rows(), a.cols(), b.cols())) return a * b;
  RingMatrix out(a.rows(), b.cols());
  split_output(
      out, [&](Eigen::Index start, Eigen::Index count) -> RingMatrix { return a.middleRows(start, count) * b; },
      [&](Eigen::Index start, Eigen::Index count) -> RingMatrix { return a * b.middleCols(start, count); });
  return out;
}

RingMatrix ring_product_transposed(mpc::RingView a, mpc::RingView b) {
  check_inner(a.cols(), b.cols(), "ring product with transpose");
  if (!worth_splitting(a.rows(), a.cols(), b.rows())) return a * b.transpose();
  RingMatrix out(a.rows(), b.rows());
  split_output(
      out,
      [&](Eigen::Index start, Eigen::Index count) -> RingMatrix { return a.middleRows(start, count) * b.transpose(); },
      [&](Eigen::Index start, Eigen::Index count) -> RingMatrix {
        return a * b.middleRows(start, count).transpose();
      });
  return out;
}

}  // namespace protocols
