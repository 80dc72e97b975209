// Max, argmax and top-k over the last axis on both backends over TLS.
#include "tests/ops/ops_harness.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

namespace ops_test {
namespace {

class Reduction : public ::testing::TestWithParam<Backend> {};

TEST_P(Reduction, MaxAndArgmaxOfAttentionLogits) {
  const mpc::FixedPoint fp(16);
  FloatMatrix logits = uniform(3, 37, -30, 30, 7);
  logits(1, 5) = logits(1, 20) = 31.0;  // a tie: the first one wins
  const auto out = run_session(GetParam(), 16, {fp.encode(logits)}, [](Party& s) {
    s.record("max", s.timed("max", [&] { return s.ops().max(s.input(0)); }));
    const auto am = s.ops().argmax(s.input(0));
    s.record("argmax_value", am.max);
    s.record("argmax", am.one_hot);
    // |x| <= 31 * 2^16 < 2^(23 - 2) at F = 16.
    protocols::ops::MaxResult bounded;
    s.record("argmax_bounded", s.timed("argmax_bounded", [&] {
      bounded = s.ops().argmax(s.input(0), 23);
      return bounded.one_hot;
    }));
    s.record("argmax_bounded_value", bounded.max);
  });
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    Eigen::Index best = 0;
    const double m = logits.row(r).maxCoeff(&best);
    EXPECT_EQ(out.results.at("max")(r, 0), fp.encode(m));  // selection, so exact
    EXPECT_EQ(out.results.at("argmax_value")(r, 0), fp.encode(m));
    EXPECT_EQ(out.results.at("argmax_bounded_value")(r, 0), fp.encode(m));
    for (Eigen::Index j = 0; j < logits.cols(); ++j) {
      EXPECT_EQ(out.results.at("argmax")(r, j), j == best ? 1u : 0u);
      EXPECT_EQ(out.results.at("argmax_bounded")(r, j), j == best ? 1u : 0u);
    }
  }
  // FSS: 6 levels of one select gate (the ReLU and the index), then the one-hot of the index by one
  // DPF (3PC: each gate reshares in a second round).
  if (fss_comparisons(GetParam()))
    EXPECT_EQ(out.rounds.at("argmax_bounded"), GetParam() == Backend::TwoPartyDealer ? 6u + 1u : 6u * 2u + 2u);
  // ceil(log4 37) = 3 tournament levels of comparison + 2 AND levels + bit conversion + one multiplication.
  // FSS: a binary tree of ceil(log2 37) = 6 levels of one ReLU gate each, max(a, b) = b + ReLU(a - b)
  // (one round; two in 3PC).
  const bool two_party = GetParam() == Backend::TwoPartyDealer;
  const std::uint64_t per_level = two_party ? 7 + 2 + 1 + 1 : 8 + 2 + 2 + 1;
  EXPECT_EQ(out.rounds.at("max"), fss_comparisons(GetParam()) ? 6 * (two_party ? 1 : 2) : 3 * per_level);
}

// Elementwise max(a, b) of two matrices, ties and the bound's edges included: exact, and one gate
// with FSS (one round; 3PC two).
TEST_P(Reduction, ElementwiseMaxIsExactInsideItsBound) {
  const mpc::FixedPoint fp(16);
  FloatMatrix a = uniform(3, 20, -30, 30, 11), b = uniform(3, 20, -30, 30, 12);
  b(0, 0) = a(0, 0);
  a(0, 1) = -1000.0, b(0, 1) = 1000.0;  // |a - b| = 2000 * 2^16 < 2^(32 - 1)
  const auto out = run_session(GetParam(), 16, {fp.encode(a), fp.encode(b)}, [](Party& s) {
    s.record("max", s.timed("max", [&] { return s.ops().elementwise_max(s.input(0), s.input(1), 32); }));
  });
  const RingMatrix want = fp.encode(a.cwiseMax(b));
  for (Eigen::Index j = 0; j < want.size(); ++j) EXPECT_EQ(out.results.at("max").data()[j], want.data()[j]) << j;
  const bool two_party = GetParam() == Backend::TwoPartyDealer;
  if (fss_comparisons(GetParam())) EXPECT_EQ(out.rounds.at("max"), two_party ? 1u : 2u);
}

TEST_P(Reduction, EveryTournamentArityFindsTheFirstMaximum) {
  const mpc::FixedPoint fp(16);
  FloatMatrix logits = uniform(2, 45, -30, 30, 9);
  logits(0, 7) = logits(0, 30) = logits(0, 44) = 40.0;
  const auto out = run_session(GetParam(), 16, {fp.encode(logits)}, [](Party& s) {
    for (int arity : {2, 3, 8}) {
      SecureOps ops(s.session(), {.tournament_arity = arity});
      const auto am = s.timed("arity" + std::to_string(arity), [&] { return ops.max(s.input(0)); });
      s.record("max" + std::to_string(arity), am);
      s.record("argmax" + std::to_string(arity), ops.argmax(s.input(0)).one_hot);
    }
  });
  for (int arity : {2, 3, 8}) {
    for (Eigen::Index r = 0; r < logits.rows(); ++r) {
      Eigen::Index best = 0;
      const double m = logits.row(r).maxCoeff(&best);
      EXPECT_EQ(out.results.at("max" + std::to_string(arity))(r, 0), fp.encode(m)) << arity;
      for (Eigen::Index j = 0; j < logits.cols(); ++j) {
        EXPECT_EQ(out.results.at("argmax" + std::to_string(arity))(r, j), j == best ? 1u : 0u) << arity;
      }
    }
  }
  // Binary: 6 levels of 9 / 11 rounds; arity 8: 2 levels with 3 AND rounds each.
  // With FSS: pairs by one ReLU gate per level; larger groups by 1 comparison round + the AND levels
  // + 1 multiplication per level.
  const bool two_party = GetParam() == Backend::TwoPartyDealer;
  const bool fss = fss_comparisons(GetParam());
  const std::uint64_t comparison = two_party ? 1 : 2;
  EXPECT_EQ(out.rounds.at("arity2"), 6u * (fss ? comparison : two_party ? 9 : 11));
  EXPECT_EQ(out.rounds.at("arity8"), 2u * (fss ? comparison + 4 : two_party ? 12 : 14));
}

TEST_P(Reduction, TopKSelectsTheLargestInOrder) {
  const mpc::FixedPoint fp(16);
  const FloatMatrix scores = uniform(2, 24, -30, 30, 11);
  const Eigen::Index k = 5;
  const auto out = run_session(GetParam(), 16, {fp.encode(scores)}, [&](Party& s) {
    const auto selections = s.ops().top_k(s.input(0), k);
    for (std::size_t r = 0; r < selections.size(); ++r) s.record("row" + std::to_string(r), selections[r]);
  });
  for (Eigen::Index r = 0; r < scores.rows(); ++r) {
    std::vector<Eigen::Index> order(static_cast<std::size_t>(scores.cols()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return scores(r, a) > scores(r, b); });
    const RingMatrix& sel = out.results.at("row" + std::to_string(r));
    ASSERT_EQ(sel.rows(), k);
    ASSERT_EQ(sel.cols(), scores.cols());
    for (Eigen::Index i = 0; i < k; ++i) {
      for (Eigen::Index j = 0; j < scores.cols(); ++j) {
        EXPECT_EQ(sel(i, j), j == order[static_cast<std::size_t>(i)] ? 1u : 0u) << "row " << r << " rank " << i;
      }
    }
  }
}

// Short rows take the rank path: one comparison batch plus equality tests, whatever n and k, and
// equal values are ordered by index; the bitonic network gives the same selection on distinct values.
TEST_P(Reduction, TopKByRankOrdersTiesByIndexInConstantRounds) {
  const mpc::FixedPoint fp(16);
  FloatMatrix scores = uniform(3, 38, -30, 30, 12);
  scores.row(2).setConstant(1.5);  // all equal: the lowest indices win, in index order
  scores(1, 7) = scores(1, 30);    // one tie inside a random row
  const Eigen::Index k = 19;
  const auto out = run_session(GetParam(), 16, {fp.encode(scores)}, [&](Party& s) {
    std::vector<protocols::Share> by_rank;
    s.timed("rank", [&] {
      by_rank = s.ops().top_k_by_rank(s.input(0), k);
      return by_rank.front();
    });
    const auto bitonic = s.ops().top_k_bitonic(s.input(0), k);
    for (std::size_t r = 0; r < by_rank.size(); ++r) {
      s.record("rank" + std::to_string(r), by_rank[r]);
      s.record("bitonic" + std::to_string(r), bitonic[r]);
    }
  });
  for (Eigen::Index r = 0; r < scores.rows(); ++r) {
    std::vector<Eigen::Index> order(static_cast<std::size_t>(scores.cols()));
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return scores(r, a) > scores(r, b); });
    const RingMatrix& sel = out.results.at("rank" + std::to_string(r));
    ASSERT_EQ(sel.rows(), k);
    for (Eigen::Index i = 0; i < k; ++i)
      for (Eigen::Index j = 0; j < scores.cols(); ++j)
        EXPECT_EQ(sel(i, j), j == order[static_cast<std::size_t>(i)] ? 1u : 0u) << "row " << r << " rank " << i;
    if (r == 0) EXPECT_EQ(sel, out.results.at("bitonic0"));  // distinct values: the same selection
  }
  // One comparison batch (9 / 11 rounds) and one 6-bit equality (3 AND rounds + conversion);
  // with FSS one comparison round and one DPF one-hot round per rank (3PC: two each).
  EXPECT_LE(out.rounds.at("rank"), GetParam() == Backend::TwoPartyDealer ? 16u : 18u);
  if (fss_comparisons(GetParam())) EXPECT_EQ(out.rounds.at("rank"), GetParam() == Backend::TwoPartyDealer ? 2u : 4u);
}

TEST_P(Reduction, TopKOverALongSequence) {
  const mpc::FixedPoint fp(16);
  const FloatMatrix scores = uniform(1, 4096, -30, 30, 21);
  const Eigen::Index k = 8;
  const auto out = run_session(GetParam(), 16, {fp.encode(scores)}, [&](Party& s) {
    const auto selections = s.timed("top_k", [&] { return s.ops().top_k(s.input(0), k).front(); });
    s.record("selection", selections);
  });
  std::vector<Eigen::Index> order(4096);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return scores(0, a) > scores(0, b); });
  const RingMatrix& sel = out.results.at("selection");
  for (Eigen::Index i = 0; i < k; ++i) {
    EXPECT_EQ(sel.row(i).sum(), 1u);
    EXPECT_EQ(sel(i, order[static_cast<std::size_t>(i)]), 1u) << "rank " << i;
  }
  // Bitonic network over 4096: 12 * 13 / 2 = 78 compare-exchange stages, then the one-hot.
  const std::uint64_t per_stage = GetParam() == Backend::TwoPartyDealer ? 9 : 11;
  EXPECT_LE(out.rounds.at("top_k"), 78 * per_stage + 8);
}

INSTANTIATE_TEST_SUITE_P(Backends, Reduction, ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return info.param == Backend::TwoPartyDealer ? "TwoParty" : "ThreeParty"; });

}  // namespace
}  // namespace ops_test
