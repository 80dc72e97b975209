// Boolean layer and comparisons on both backends over TLS: exact results and round counts.
#include "net/frame.hpp"
#include "tests/ops/ops_harness.hpp"
#include "protocols/ops/share_layout.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <iostream>
#include <map>
#include <random>
#include <string>

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
  const auto out = run_session(GetParam(), 16, {x, y_with_ties}, [](Party& s) {
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
  const auto out = run_session(GetParam(), 16, {index, table}, [](Party& s) {
    const Share hot = s.timed("one_hot", [&] { return s.ops().one_hot(s.input(0), 7); });
    s.record("one_hot", hot);
    s.record("gathered", s.ops().gather_rows(hot, s.input(1)));
    // Domain edges: n a power of two with the last index, and n = 1.
    s.record("one_hot8", s.ops().one_hot(s.input(0), 8));
    s.record("one_hot1", s.ops().one_hot(protocols::ops::constant(s.proto(), RingMatrix::Zero(2, 1)), 1));
  });
  const RingMatrix& hot = out.results.at("one_hot");
  for (Eigen::Index r = 0; r < 5; ++r) {
    for (Eigen::Index j = 0; j < 7; ++j) EXPECT_EQ(hot(r, j), static_cast<mpc::u64>(j) == index(r, 0) ? 1u : 0u);
    EXPECT_EQ(RingMatrix(out.results.at("gathered").row(r)), RingMatrix(table.row(static_cast<Eigen::Index>(index(r, 0)))));
  }
  const RingMatrix& hot8 = out.results.at("one_hot8");
  for (Eigen::Index r = 0; r < 5; ++r)
    for (Eigen::Index j = 0; j < 8; ++j) EXPECT_EQ(hot8(r, j), static_cast<mpc::u64>(j) == index(r, 0) ? 1u : 0u);
  EXPECT_EQ(out.results.at("one_hot1"), RingMatrix::Ones(2, 1));
  // log2 of the tested width (4 bits for n = 7) AND rounds, then the bit conversion; with FSS one
  // DPF per row (3PC: and the resharing).
  EXPECT_LE(out.rounds.at("one_hot"), GetParam() == Backend::TwoPartyDealer ? 3u : 5u);
  if (fss_comparisons(GetParam())) EXPECT_EQ(out.rounds.at("one_hot"), GetParam() == Backend::TwoPartyDealer ? 1u : 2u);
}

// Signed values strictly inside (-2^(w-1), 2^(w-1)): random, plus both edges, 0 and -1.
RingMatrix within_bits(Eigen::Index rows, Eigen::Index cols, int w, unsigned seed) {
  std::mt19937_64 gen(seed);
  const std::int64_t limit = (std::int64_t{1} << (w - 1)) - 1;
  std::uniform_int_distribution<std::int64_t> value(-limit, limit);
  RingMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = static_cast<mpc::u64>(value(gen));
  const std::int64_t edges[] = {limit, -limit, 0, -1, 1};
  for (std::size_t i = 0; i < std::size(edges); ++i) m.data()[i] = static_cast<mpc::u64>(edges[i]);
  return m;
}

// Online bytes party 0 sent while `step` ran.
std::uint64_t bytes_sent_by(Party& s, const std::function<void()>& step) {
  net::Stats& stats = s.proto().mesh().stats();
  net::PhaseScope phase(stats, kOnline);
  const std::uint64_t before = stats.phase_total(kOnline).bytes_sent;
  step();
  return stats.phase_total(kOnline).bytes_sent - before;
}

// Lanes of w bits, floor(64 / w) per word: exact on every value inside the bound, odd widths and
// one-lane widths included, for fewer bytes than the full-width comparison.
TEST_P(Comparison, BoundedComparisonsAreExactInsideTheirRangeAndCheaper) {
  const int widths[] = {2, 9, 21, 32, 33, 47};
  std::vector<RingMatrix> inputs;
  for (std::size_t i = 0; i < std::size(widths); ++i) inputs.push_back(within_bits(3, 37, widths[i], 40 + i));
  std::map<std::string, std::uint64_t> bytes;
  const auto out = run_session(GetParam(), 16, inputs, [&](Party& s) {
    for (std::size_t i = 0; i < std::size(widths); ++i) {
      const std::string name = "w" + std::to_string(widths[i]);
      Share bit;
      const std::uint64_t sent = bytes_sent_by(s, [&] { bit = s.ops().less_than_zero(s.input(i), widths[i]); });
      s.record(name, bit);
      if (s.proto().mesh().self() == 0) bytes[name] = sent;
    }
    const std::uint64_t full = bytes_sent_by(s, [&] { s.ops().less_than_zero(s.input(3)); });
    if (s.proto().mesh().self() == 0) bytes["full"] = full;
  });
  for (std::size_t i = 0; i < std::size(widths); ++i) {
    const RingMatrix& bit = out.results.at("w" + std::to_string(widths[i]));
    for (Eigen::Index j = 0; j < inputs[i].size(); ++j)
      EXPECT_EQ(bit.data()[j], static_cast<std::int64_t>(inputs[i].data()[j]) < 0 ? 1u : 0u)
          << "width " << widths[i] << " element " << j;
  }
  for (const auto& [name, sent] : bytes) std::cout << name << ": " << sent << " bytes\n";
  // FSS: the masked input opens modulo 2^w, ceil(w / 8) bytes per element and party (8 for the
  // full width); 3PC adds the resharing round, one word per element.
  if (fss_comparisons(GetParam())) {
    const std::uint64_t elements = 3u * 37;
    const std::uint64_t reshare = GetParam() == Backend::TwoPartyDealer ? 0 : elements * 8 + net::kFrameHeaderBytes;
    for (std::size_t i = 0; i < std::size(widths); ++i) {
      const std::uint64_t opened = elements * static_cast<std::uint64_t>((widths[i] + 7) / 8) + net::kFrameHeaderBytes;
      EXPECT_EQ(bytes.at("w" + std::to_string(widths[i])), opened + reshare) << "width " << widths[i];
    }
    EXPECT_EQ(bytes.at("full"), elements * 8 + net::kFrameHeaderBytes + reshare);
    return;
  }
  // Two 32-bit lanes per word and one adder level less: under half the full comparison's bytes in
  // 2PC. 3PC also reshares the two summands and converts the bits per element, at full width.
  if (GetParam() == Backend::TwoPartyDealer) {
    EXPECT_LT(2 * bytes.at("w32"), bytes.at("full"));
  } else {
    EXPECT_LT(4 * bytes.at("w32"), 3 * bytes.at("full"));
  }
  EXPECT_LT(bytes.at("w9"), bytes.at("w21"));
  EXPECT_LT(bytes.at("w21"), bytes.at("w32"));
}

// Equality of narrow differences packs 64 / 2^ceil(log2 w) tests per word; every lane is decided
// by its own bits only, whatever its neighbours hold.
TEST_P(Comparison, PackedEqualityTestsAreIndependentPerLane) {
  RingMatrix x(4, 40), c(4, 40);
  std::mt19937_64 gen(9);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    c.data()[i] = gen() % 8;
    x.data()[i] = i % 3 == 0 ? c.data()[i] : c.data()[i] + (gen() % 2 ? 1 : -1) * static_cast<mpc::u64>(1 + gen() % 7);
  }
  x(0, 1) = c(0, 1) + 7;  // at the edge of the 4-bit range
  x(0, 2) = c(0, 2) - 7;
  const auto out = run_session(GetParam(), 16, {x}, [&](Party& s) {
    s.record("eq4", s.ops().equal_public(s.input(0), c, 4));
    s.record("eq64", s.ops().equal_public(s.input(0), c));
    s.record("eq20", s.ops().equal_public(s.input(0), c, 20));  // with FSS: by two comparisons
  });
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const mpc::u64 expect = x.data()[i] == c.data()[i] ? 1u : 0u;
    EXPECT_EQ(out.results.at("eq4").data()[i], expect) << i;
    EXPECT_EQ(out.results.at("eq64").data()[i], expect) << i;
    EXPECT_EQ(out.results.at("eq20").data()[i], expect) << i;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Comparison, ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return info.param == Backend::TwoPartyDealer ? "TwoParty" : "ThreeParty"; });

}  // namespace
}  // namespace ops_test
