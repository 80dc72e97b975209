// Boolean layer and comparisons on both backends over TLS: exact results and round counts.
#include "tests/ops/ops_harness.hpp"

#include <gtest/gtest.h>

#include <random>

namespace ops_test {
namespace {

using protocols::BoolShare;
using protocols::BooleanBackend;

class Comparison : public ::testing::TestWithParam<Backend> {};

RingMatrix sample_ring(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937_64 gen(seed);
  RingMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = gen();
  // Values the comparisons must get right at the edges.
  const mpc::u64 edges[] = {0, 1, ~mpc::u64{0}, mpc::u64{1} << 62, static_cast<mpc::u64>(-(std::int64_t{1} << 62)), 65536};
  for (std::size_t i = 0; i < std::size(edges); ++i) m.data()[i] = edges[i];
  return m;
}

// Signed values below 2^62 in magnitude (the comparisons' domain).
RingMatrix in_domain(const RingMatrix& m) {
  return m.unaryExpr([](mpc::u64 v) { return static_cast<mpc::u64>(static_cast<std::int64_t>(v) >> 2); });
}

TEST_P(Comparison, BooleanLayerAndComparisonsAreExact) {
  const RingMatrix x = in_domain(sample_ring(4, 16, 1)), y = in_domain(sample_ring(4, 16, 2));
  RingMatrix y_with_ties = y;
  y_with_ties.col(3) = x.col(3);
  y_with_ties.col(4).setZero();
  const auto out = run_session(GetParam(), 16, {x, y_with_ties}, [](Session& s) {
    SecureOps& ops = s.ops();
    BooleanBackend& B = ops.boolean();
    const Share& a = s.input(0);
    const Share& b = s.input(1);
    // A2B then B2A bit by bit reconstructs the word.
    const BoolShare bits = ops.to_boolean(a);
    const RingMatrix opened_bits = B.reveal(bits, protocols::kRevealToAll);
    if (s.proto().mesh().self() == 0) (*s.results)["a2b"] = opened_bits;
    const BoolShare anded = B.and_(bits, ops.to_boolean(b));
    const RingMatrix opened_and = B.reveal(anded, 0);
    if (s.proto().mesh().self() == 0) (*s.results)["and"] = opened_and;
    s.timed("msb", [&] { return ops.bit_to_arithmetic(ops.msb(a)); });
    const BoolShare msb_only = [&] {
      net::PhaseScope phase(s.proto().mesh().stats(), kOnline);
      const auto before = s.proto().mesh().stats().rounds(kOnline);
      BoolShare m = ops.msb(a);
      if (s.proto().mesh().self() == 0) (*s.rounds)["msb_boolean"] = s.proto().mesh().stats().rounds(kOnline) - before;
      return m;
    }();
    s.record("msb", ops.bit_to_arithmetic(msb_only));
    s.record("lt", s.timed("lt", [&] { return ops.less_than(a, b); }));
    s.record("relu", s.timed("relu", [&] { return ops.relu(a); }));
    s.record("select", ops.select(ops.less_than(a, b), a, b));
    s.record("eq", s.timed("eq", [&] { return ops.equal_public(b, RingMatrix::Zero(b.rows(), b.cols())); }));
  });
  // Equality is checked against a public zero matrix, plus the tie column through select/lt.
  EXPECT_EQ(out.results.at("a2b"), x);
  RingMatrix expect_and = x.binaryExpr(y_with_ties, [](mpc::u64 u, mpc::u64 v) { return u & v; });
  EXPECT_EQ(out.results.at("and"), expect_and);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const auto xi = static_cast<std::int64_t>(x.data()[i]), yi = static_cast<std::int64_t>(y_with_ties.data()[i]);
    EXPECT_EQ(out.results.at("msb").data()[i], xi < 0 ? 1u : 0u) << i;
    EXPECT_EQ(out.results.at("lt").data()[i], xi < yi ? 1u : 0u) << i;
    EXPECT_EQ(out.results.at("relu").data()[i], static_cast<mpc::u64>(xi < 0 ? 0 : xi)) << i;
    EXPECT_EQ(out.results.at("select").data()[i], static_cast<mpc::u64>(std::min(xi, yi))) << i;
    EXPECT_EQ(out.results.at("eq").data()[i], yi == 0 ? 1u : 0u) << i;
  }
  // The work item's bar: comparison within 8 online rounds.
  const bool two_party = GetParam() == Backend::TwoPartyDealer;
  EXPECT_EQ(out.rounds.at("msb_boolean"), two_party ? 7u : 8u);
  EXPECT_LE(out.rounds.at("msb_boolean"), 8u);
  EXPECT_EQ(out.rounds.at("msb"), two_party ? 8u : 10u);  // + bit to arithmetic
}

TEST_P(Comparison, EqualityAndOneHotOfSecretIndices) {
  RingMatrix index(5, 1);
  index << 0, 3, 6, 6, 2;
  RingMatrix table(7, 3);
  for (Eigen::Index i = 0; i < table.size(); ++i) table.data()[i] = static_cast<mpc::u64>(100 + i);
  const auto out = run_session(GetParam(), 16, {index, table}, [](Session& s) {
    const Share hot = s.timed("one_hot", [&] { return s.ops().one_hot(s.input(0), 7); });
    s.record("one_hot", hot);
    s.record("gathered", s.ops().gather_rows(hot, s.input(1)));
  });
  const RingMatrix& hot = out.results.at("one_hot");
  for (Eigen::Index r = 0; r < 5; ++r) {
    for (Eigen::Index j = 0; j < 7; ++j) EXPECT_EQ(hot(r, j), static_cast<mpc::u64>(j) == index(r, 0) ? 1u : 0u);
    EXPECT_EQ(RingMatrix(out.results.at("gathered").row(r)), RingMatrix(table.row(static_cast<Eigen::Index>(index(r, 0)))));
  }
  // log2 of the tested width (4 bits for n = 7) AND rounds, then the bit conversion.
  EXPECT_LE(out.rounds.at("one_hot"), GetParam() == Backend::TwoPartyDealer ? 3u : 5u);
}

INSTANTIATE_TEST_SUITE_P(Backends, Comparison, ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return info.param == Backend::TwoPartyDealer ? "TwoParty" : "ThreeParty"; });

}  // namespace
}  // namespace ops_test
