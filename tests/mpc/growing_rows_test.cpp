// GrowingRows: the storage of the growing KV caches. Appends are amortised (the block grows by a
// quarter, at least kMinGrowthRows rows, when full and never moves within its capacity), and it reads and writes like the matrix it holds.
#include "mpc/growing_rows.hpp"
#include "mpc/ring.hpp"

#include <gtest/gtest.h>

namespace {

using Rows = mpc::GrowingRows<double>;
using mpc::FloatMatrix;

FloatMatrix counting(Eigen::Index rows, Eigen::Index cols, double from) {
  FloatMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = from + static_cast<double>(i);
  return m;
}

TEST(GrowingRows, AppendsWithinCapacityKeepTheStorageInPlace) {
  Rows r(counting(3, 2, 0));
  r.append(counting(1, 2, 100));  // full: the block grows by its minimum step
  ASSERT_EQ(r.capacity(), 3 + Rows::kMinGrowthRows);
  const double* at = r.data();
  r.append(counting(1, 2, 200));
  r.append(counting(1, 2, 300));
  EXPECT_EQ(r.data(), at);
  EXPECT_EQ(r.rows(), 6);
  FloatMatrix want(6, 2);
  want << counting(3, 2, 0), counting(1, 2, 100), counting(1, 2, 200), counting(1, 2, 300);
  EXPECT_EQ(r.matrix(), want);
}

TEST(GrowingRows, ALargeBlockGrowsByAQuarter) {
  Rows r(counting(400, 2, 0));
  r.append(counting(1, 2, 1000));
  ASSERT_EQ(r.capacity(), 500);
  const double* at = r.data();
  while (r.rows() < r.capacity()) r.append(counting(1, 2, 2000));
  EXPECT_EQ(r.data(), at);
  r.append(counting(1, 2, 3000));  // past the capacity: moves once, grows by a quarter again
  EXPECT_EQ(r.capacity(), 625);
  EXPECT_EQ(r.bottomRows(1), counting(1, 2, 3000));
  EXPECT_EQ(r.topRows(400), counting(400, 2, 0));
}

TEST(GrowingRows, ReleaseHandsTheRowsOver) {
  Rows exact(counting(3, 2, 0));
  const double* at = exact.data();
  const FloatMatrix taken = exact.release();  // no spare capacity: the storage itself
  EXPECT_EQ(taken.data(), at);
  EXPECT_EQ(exact.rows(), 0);
  Rows spare(counting(3, 2, 0));
  spare.append(counting(1, 2, 9));
  EXPECT_EQ(spare.release(), (FloatMatrix(4, 2) << counting(3, 2, 0), counting(1, 2, 9)).finished());
}

TEST(GrowingRows, ReserveTakesAKnownMaximumUpFront) {
  Rows r(counting(2, 3, 0));
  r.reserve(10);
  const double* at = r.data();
  for (int i = 0; i < 8; ++i) r.append(counting(1, 3, 10.0 * i));
  EXPECT_EQ(r.data(), at);
  EXPECT_EQ(r.capacity(), 10);
  EXPECT_EQ(r.topRows(2), counting(2, 3, 0));
}

TEST(GrowingRows, AnEmptyStoreTakesTheColumnsOfItsFirstRows) {
  Rows r;
  EXPECT_EQ(r.rows(), 0);
  r.append(counting(2, 4, 1));
  EXPECT_EQ(r.cols(), 4);
  EXPECT_EQ(r.matrix(), counting(2, 4, 1));
  EXPECT_THROW(r.append(counting(1, 3, 0)), std::invalid_argument);
}

TEST(GrowingRows, ReadsWritesCopiesAndTruncatesLikeAMatrix) {
  Rows r(counting(2, 2, 0));
  r.append(counting(1, 2, 10));
  r.row(0) = counting(1, 2, 50);  // in place
  const FloatMatrix v = FloatMatrix::Ones(2, 1);
  EXPECT_EQ(FloatMatrix(r * v), FloatMatrix((FloatMatrix(3, 2) << 50, 51, 2, 3, 10, 11).finished() * v));
  Rows copy = r;  // deep: independent storage holding only the live rows
  copy.row(1).setZero();
  EXPECT_EQ(r(1, 0), 2);
  EXPECT_EQ(copy.capacity(), 3);
  Rows moved = std::move(copy);
  EXPECT_EQ(moved(1, 0), 0);
  EXPECT_EQ(copy.rows(), 0);
  r.truncate(1);
  EXPECT_EQ(r.matrix(), counting(1, 2, 50));
  EXPECT_THROW(r.truncate(2), std::out_of_range);
  r = r.topRows(1) * 2.0;  // an expression over its own rows
  EXPECT_EQ(r.matrix(), counting(1, 2, 50) * 2.0);
}

TEST(GrowingRows, AppendingItsOwnRowIsSafeAcrossAReallocation) {
  Rows r(counting(1, 3, 7));
  r.append(r.row(0));  // full: the source row lives in the block being replaced
  EXPECT_EQ(r.row(1), counting(1, 3, 7));
}

}  // namespace
