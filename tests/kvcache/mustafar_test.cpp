#include "kvcache/attention.hpp"
#include "kvcache/bitmap_sparse.hpp"
#include "kvcache/mustafar.hpp"
#include "fake_engine.hpp"

#include <gtest/gtest.h>

#include <random>

namespace kvcache {
namespace {

using testing::FakeEngine;
using testing::row;
using testing::rows_of;

TEST(MagnitudePrune, KeepsLargestMagnitudes) {
  const Eigen::RowVectorXd pruned = magnitude_prune(row({3, -5, 1, 0.5}), 2);
  EXPECT_EQ(pruned, row({3, -5, 0, 0}));
  EXPECT_EQ(magnitude_prune(row({2, -2, 1}), 1), row({2, 0, 0}));  // tie keeps the lower column
}

TEST(BitmapSparseRows, RoundTripAcrossWordBoundary) {
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  BitmapSparseRows store(70);
  std::vector<Eigen::RowVectorXd> rows;
  for (int r = 0; r < 5; ++r) {
    Eigen::RowVectorXd dense = Eigen::RowVectorXd::Zero(70);
    for (int c = r; c < 70; c += 3) dense[c] = normal(rng);
    dense[69] = 1.5;  // a bit in the second bitmap word
    store.append(dense);
    rows.push_back(dense);
  }
  Eigen::RowVectorXd x(70);
  for (int c = 0; c < 70; ++c) x[c] = normal(rng);
  for (int r = 0; r < 5; ++r) {
    EXPECT_EQ(store.dense_row(r), rows[r]);
    EXPECT_NEAR(store.dot(r, x), rows[r].dot(x), 1e-12);
    Eigen::RowVectorXd acc = Eigen::RowVectorXd::Zero(70);
    store.add_scaled(r, 0.5, acc);
    EXPECT_EQ(acc, 0.5 * rows[r]);
  }
  EXPECT_THROW(store.dense_row(5), std::out_of_range);
  EXPECT_THROW(store.append(Eigen::RowVectorXd::Zero(3)), std::invalid_argument);
}

TEST(Mustafar, PrunesRowsOutsideDenseWindowAndAttendsOnSparseFormat) {
  PolicyConfig config;
  config.mustafar_sparsity = 0.5;
  config.mustafar_dense_window = 2;
  MustafarPolicy policy(config);
  const ModelShape shape{1, 2, 1, 4};
  FakeEngine engine(policy, shape, 5);
  const FloatMatrix keys = rows_of({{3, -5, 1, 0.5}, {0, 1, 2, 3}, {-4, 0, 0, 1}, {1, 2, 3, 4}, {5, 6, 7, 8}});
  const FloatMatrix values = rows_of({{1, 2, 3, 4}, {-1, 0, 0, 0}, {0, 0, 9, -9}, {1, 1, 1, 1}, {2, 2, 2, 2}});
  engine.prefill(0, {keys}, {values}, {FloatMatrix::Zero(5, 4), FloatMatrix::Zero(5, 4)});
  const HeadCache& head = engine.layer(0).heads[0];
  EXPECT_EQ(policy.kept_per_row(), 2);
  EXPECT_EQ(head.keys.row(0), row({3, -5, 0, 0}));
  EXPECT_EQ(head.keys.row(1), row({0, 0, 2, 3}));
  EXPECT_EQ(head.values.row(1), row({-1, 0, 0, 0}));  // one non-zero, kept with a pruned zero
  EXPECT_EQ(head.keys.row(3), keys.row(3));           // dense window untouched

  const std::vector<FloatMatrix> query = {rows_of({{0.3, -0.2, 0.5, 0.1}}), rows_of({{-1, 0.5, 0, 2}})};
  const std::vector<FloatMatrix> out = engine.decode(0, {row({1, 0, 0, -1})}, {row({0, 1, 0, 0})}, query, 5);
  // Position 3 has just left the window of 2 and must now be pruned too.
  EXPECT_EQ(head.keys.row(3), row({0, 0, 3, 4}));
  for (int h = 0; h < 2; ++h) {
    const AttentionResult dense = dense_attention(query[h].row(0), head);  // on the pruned dense matrix
    EXPECT_LT((out[h] - dense.output).cwiseAbs().maxCoeff(), 1e-12);
  }
  // Memory: 4 pruned rows per store, 4 bitmap words (32 bytes) + 5 offsets (20 bytes) + the
  // non-zeros: 8 for K, 7 for V (value row 1 has a single non-zero entry).
  const KvMemory memory = policy.memory(0);
  EXPECT_EQ(memory.sparse_bytes, (32u + 20u + 8u * 8u) + (32u + 20u + 7u * 8u));
  EXPECT_EQ(memory.dense_bytes, 2u * 2u * 4u * 8u);
  EXPECT_EQ(memory.full_bytes, 2u * 6u * 4u * 8u);
}

}  // namespace
}  // namespace kvcache
