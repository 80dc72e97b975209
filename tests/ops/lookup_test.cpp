// FSS lookup tables on both backends over TLS: every table entry read exactly from any share whose
// low bits are the index, all tables of a batch in one round (3PC: two), and the local index
// arithmetic (shifted components) within its stated carry.
#include "protocols/fss/fss_comparison.hpp"
#include "protocols/fss/fss_lookup.hpp"
#include "protocols/fss/fss_truncation.hpp"
#include "protocols/fss/key_dealing.hpp"
#include "protocols/ops/lookup_tables.hpp"
#include "tests/ops/ops_harness.hpp"

#include <gtest/gtest.h>

#include <limits>
#include <random>
#include <string>

namespace ops_test {
namespace {

using protocols::fss::FssLookup;
using protocols::fss::KeyDealing;
using protocols::fss::LookupTable;

class Lookup : public ::testing::TestWithParam<Backend> {};

RingMatrix random_words(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937_64 gen(seed);
  RingMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = gen();
  const mpc::u64 edges[] = {0, 1, ~mpc::u64{0}, mpc::u64{1} << 63, 4095, 4096};
  for (std::size_t i = 0; i < std::size(edges); ++i) m.data()[i] = edges[i];
  return m;
}

LookupTable random_table(int bits, unsigned seed) {
  std::mt19937_64 gen(seed);
  LookupTable t;
  t.bits = bits;
  for (std::size_t i = 0; i < (std::size_t{1} << bits); ++i) t.entries.push_back(gen());
  return t;
}

TEST_P(Lookup, EveryEntryIsReadExactlyAndABatchTakesOneRound) {
  const int widths[] = {1, 5, 9, 12};
  std::vector<RingMatrix> inputs;
  std::vector<LookupTable> tables;
  for (std::size_t i = 0; i < std::size(widths); ++i) {
    inputs.push_back(random_words(3, 50 + static_cast<Eigen::Index>(i), 10 + static_cast<unsigned>(i)));
    tables.push_back(random_table(widths[i], 20 + static_cast<unsigned>(i)));
  }
  // The whole domain of the 9-bit table, so that every entry is read once.
  inputs[2].resize(1, 512);
  for (Eigen::Index j = 0; j < 512; ++j) inputs[2](0, j) = static_cast<mpc::u64>(j) + (mpc::u64{7} << 40);
  const auto out = run_session(GetParam(), 16, inputs, [&](Party& s) {
    KeyDealing dealing(s.proto());
    FssLookup gate(dealing);
    std::vector<Share> indices;
    std::vector<const LookupTable*> table_ptrs;
    for (std::size_t i = 0; i < std::size(widths); ++i) indices.push_back(s.input(i)), table_ptrs.push_back(&tables[i]);
    const std::vector<Share> read = s.timed_all("lookup", [&] { return gate.lookup(indices, table_ptrs); });
    for (std::size_t i = 0; i < read.size(); ++i) s.record("t" + std::to_string(i), read[i]);
  });
  EXPECT_EQ(out.rounds.at("lookup"), GetParam() == Backend::TwoPartyDealer ? 1u : 2u);
  for (std::size_t i = 0; i < std::size(widths); ++i) {
    const RingMatrix& got = out.results.at("t" + std::to_string(i));
    ASSERT_EQ(got.size(), inputs[i].size());
    const mpc::u64 mask = (mpc::u64{1} << widths[i]) - 1;
    for (Eigen::Index j = 0; j < got.size(); ++j)
      ASSERT_EQ(got.data()[j], tables[i].entries[inputs[i].data()[j] & mask]) << "table " << i << " element " << j;
  }
  EXPECT_EQ(FssLookup::dealer_bytes_per_lookup(9), 2u * 16 * 9);
}

// A comparison and a lookup prepared together open their inputs in one round (3PC: and reshare
// in one more), with the same results as on their own.
TEST_P(Lookup, GatesOfDifferentKindsShareOneRound) {
  RingMatrix x = random_words(2, 40, 5);
  for (Eigen::Index j = 0; j < x.size(); ++j) x.data()[j] = static_cast<mpc::u64>(static_cast<std::int64_t>(x.data()[j]) >> 2);
  const LookupTable table = random_table(7, 6);
  const auto out = run_session(GetParam(), 16, {x}, [&](Party& s) {
    KeyDealing dealing(s.proto());
    protocols::fss::FssComparison comparison(dealing);
    FssLookup gate(dealing);
    const LookupTable* tables[] = {&table, &table};
    const std::vector<Share> read = s.timed_all("round", [&] {
      protocols::fss::FssRound round(dealing);
      round.add(comparison.prepare(s.input(0), 64), protocols::shape_of(s.input(0).first));
      round.add(gate.prepare(s.input(0), tables), protocols::Shape{2 * x.rows(), x.cols()});
      return round.run();
    });
    s.record("sign", read[0]);
    s.record("twice", read[1]);
  });
  EXPECT_EQ(out.rounds.at("round"), GetParam() == Backend::TwoPartyDealer ? 1u : 2u);
  const RingMatrix& sign = out.results.at("sign");
  const RingMatrix& twice = out.results.at("twice");
  for (Eigen::Index j = 0; j < x.size(); ++j) {
    EXPECT_EQ(sign.data()[j], static_cast<std::int64_t>(x.data()[j]) < 0 ? 1u : 0u) << j;
    const mpc::u64 want = table.entries[x.data()[j] & 127];
    EXPECT_EQ(twice.data()[j], want) << j;
    EXPECT_EQ(twice.data()[x.size() + j], want) << j;
  }
}

// Truncation as a gate: floor(x / 2^bits) or one more for every |x| < 2^62, the domain's edges
// included, at several shifts, opened in the round of a comparison on another value (3PC: and
// reshared in its second round), with 16 dealer bytes per element.
TEST_P(Lookup, TruncationGateIsExactToOneUnitInTheRoundOfOtherGates) {
  RingMatrix x = random_words(3, 64, 9);
  const std::int64_t limit = (std::int64_t{1} << 62) - 1;
  const std::int64_t edges[] = {0, 1, -1, limit, -limit, 255, -256, std::int64_t{1} << 40, -(std::int64_t{1} << 40)};
  for (Eigen::Index j = 0; j < x.size(); ++j) x.data()[j] = static_cast<mpc::u64>(static_cast<std::int64_t>(x.data()[j]) >> 2);
  for (std::size_t i = 0; i < std::size(edges); ++i) x.data()[i] = static_cast<mpc::u64>(edges[i]);
  const int shifts[] = {1, 8, 16, 40, 61};
  const auto out = run_session(GetParam(), 16, {x}, [&](Party& s) {
    KeyDealing dealing(s.proto());
    protocols::fss::FssComparison comparison(dealing);
    protocols::fss::FssTruncation truncation(dealing);
    const std::vector<Share> got = s.timed_all("round", [&] {
      protocols::fss::FssRound round(dealing);
      round.add(comparison.prepare(s.input(0), 64), protocols::shape_of(s.input(0).first));
      for (int bits : shifts) round.add(truncation.prepare(s.input(0), bits), protocols::shape_of(s.input(0).first));
      return round.run();
    });
    s.record("sign", got[0]);
    for (std::size_t i = 0; i < std::size(shifts); ++i) s.record("t" + std::to_string(shifts[i]), got[i + 1]);
  });
  EXPECT_EQ(out.rounds.at("round"), GetParam() == Backend::TwoPartyDealer ? 1u : 2u);
  for (int bits : shifts) {
    const RingMatrix& t = out.results.at("t" + std::to_string(bits));
    for (Eigen::Index j = 0; j < x.size(); ++j) {
      const std::int64_t want = static_cast<std::int64_t>(x.data()[j]) >> bits;  // floor
      const std::int64_t diff = static_cast<std::int64_t>(t.data()[j]) - want;
      EXPECT_TRUE(diff == 0 || diff == 1) << "shift " << bits << " element " << j << " off by " << diff;
    }
  }
  const RingMatrix& sign = out.results.at("sign");
  for (Eigen::Index j = 0; j < x.size(); ++j) EXPECT_EQ(sign.data()[j], static_cast<std::int64_t>(x.data()[j]) < 0 ? 1u : 0u) << j;
  EXPECT_EQ(protocols::fss::FssTruncation::dealer_bytes_per_element(), 16u);
}

// The truncated product gate: trunc(a) trunc(b) for the truncations' own one-unit results, signs
// and zeros included, and trunc(a) c with c left untruncated (exactly 0 where c is), both in one
// round (3PC: two) at 64 dealer bytes per element.
TEST_P(Lookup, TruncatedProductGateMultipliesTheTruncationsInOneRound) {
  const int bits = 20;
  std::mt19937_64 gen(17);
  RingMatrix a(4, 40), b(4, 40);
  for (Eigen::Index j = 0; j < a.size(); ++j) {  // |a|, |b| < 2^50: the truncations' product < 2^60
    a.data()[j] = static_cast<mpc::u64>(static_cast<std::int64_t>(gen()) >> 14);
    b.data()[j] = static_cast<mpc::u64>(static_cast<std::int64_t>(gen()) >> 14);
  }
  const std::int64_t edges[][2] = {{0, 0}, {0, -1}, {-1, -1}, {1 << 20, -(1 << 20)}, {(std::int64_t{1} << 50) - 1, -(std::int64_t{1} << 50) + 1}};
  for (std::size_t i = 0; i < std::size(edges); ++i) a.data()[i] = static_cast<mpc::u64>(edges[i][0]), b.data()[i] = static_cast<mpc::u64>(edges[i][1]);
  RingMatrix c(4, 40);  // an untruncated factor: |c| < 2^20, zeros in the first column
  for (Eigen::Index j = 0; j < c.size(); ++j) c.data()[j] = j < 4 ? 0 : static_cast<mpc::u64>(static_cast<std::int64_t>(gen()) >> 44);
  const auto out = run_session(GetParam(), 16, {a, b, c}, [&](Party& s) {
    KeyDealing dealing(s.proto());
    protocols::fss::FssTruncation truncation(dealing);
    const std::vector<Share> got = s.timed_all("product", [&] {
      protocols::fss::FssRound round(dealing);
      round.add(truncation.prepare_product(s.input(0), s.input(1), bits, bits), protocols::shape_of(s.input(0).first));
      round.add(truncation.prepare_product(s.input(0), s.input(2), bits, 0), protocols::shape_of(s.input(0).first));
      return round.run();
    });
    s.record("product", got[0]);
    s.record("first_truncated", got[1]);
  });
  EXPECT_EQ(out.rounds.at("product"), GetParam() == Backend::TwoPartyDealer ? 1u : 2u);
  const RingMatrix& got = out.results.at("product");
  for (Eigen::Index j = 0; j < a.size(); ++j) {
    const std::int64_t ta = static_cast<std::int64_t>(a.data()[j]) >> bits, tb = static_cast<std::int64_t>(b.data()[j]) >> bits;
    const std::int64_t p = static_cast<std::int64_t>(got.data()[j]);
    const bool one_unit = p == ta * tb || p == (ta + 1) * tb || p == ta * (tb + 1) || p == (ta + 1) * (tb + 1);
    EXPECT_TRUE(one_unit) << "element " << j << ": " << p << " for " << ta << " * " << tb;
    const std::int64_t cj = static_cast<std::int64_t>(c.data()[j]);
    const std::int64_t q = static_cast<std::int64_t>(out.results.at("first_truncated").data()[j]);
    EXPECT_TRUE(q == ta * cj || q == (ta + 1) * cj) << "element " << j << ": " << q << " for " << ta << " * " << cj;
  }
  EXPECT_EQ(protocols::fss::FssTruncation::dealer_bytes_per_product(), 64u);
}

// ReLU by one FSS gate: exact on every value inside the bound, the bound's edges included, in one
// round (3PC: two).
TEST_P(Lookup, ReluAndSelectGatesAreExactInsideTheirBoundInOneRound) {
  const int widths[] = {20, 64};
  std::vector<RingMatrix> inputs;
  for (int w : widths) {
    RingMatrix x = random_words(2, 30, 40 + static_cast<unsigned>(w));
    const std::int64_t bound = w == 64 ? std::numeric_limits<std::int64_t>::max() : (std::int64_t{1} << (w - 1)) - 1;
    for (Eigen::Index j = 0; j < x.size(); ++j) {
      const std::int64_t v = static_cast<std::int64_t>(x.data()[j]);
      x.data()[j] = static_cast<mpc::u64>(w == 64 ? v : v % (bound + 1));
    }
    x(0, 0) = static_cast<mpc::u64>(bound), x(0, 1) = static_cast<mpc::u64>(-bound), x(0, 2) = 0, x(0, 3) = 1;
    x(0, 4) = ~mpc::u64{0};
    inputs.push_back(x);
  }
  const RingMatrix selected = random_words(2, 30, 77);  // any ring elements ride along
  inputs.push_back(selected);
  const auto out = run_session(GetParam(), 16, inputs, [&](Party& s) {
    KeyDealing dealing(s.proto());
    protocols::fss::FssComparison gate(dealing);
    for (std::size_t i = 0; i < std::size(widths); ++i) {
      const std::string n = std::to_string(i);
      s.record("relu" + n, s.timed("relu" + n, [&] { return gate.relu(s.input(i), widths[i]); }));
      s.record("select" + n, s.timed("select" + n, [&] {
        protocols::fss::FssRound round(dealing);
        round.add(gate.prepare_select(s.input(i), s.input(2), widths[i]), protocols::Shape{2 * selected.rows(), selected.cols()});
        return std::move(round.run().front());
      }));
      protocols::fss::FssRound with_bit(dealing);
      with_bit.add(gate.prepare(s.input(i), widths[i], protocols::fss::FssComparison::Output::relu_with_bit),
                   protocols::Shape{2 * selected.rows(), selected.cols()});
      s.record("with_bit" + std::to_string(i), with_bit.run().front());
    }
  });
  const std::uint64_t one_round = GetParam() == Backend::TwoPartyDealer ? 1u : 2u;
  for (std::size_t i = 0; i < std::size(widths); ++i) {
    EXPECT_EQ(out.rounds.at("relu" + std::to_string(i)), one_round);
    EXPECT_EQ(out.rounds.at("select" + std::to_string(i)), one_round);
    const RingMatrix& got = out.results.at("relu" + std::to_string(i));
    const RingMatrix& both = out.results.at("select" + std::to_string(i));
    const Eigen::Index rows = selected.rows();
    for (Eigen::Index r = 0; r < rows; ++r) {
      for (Eigen::Index c = 0; c < selected.cols(); ++c) {
        const std::int64_t v = static_cast<std::int64_t>(inputs[i](r, c));
        ASSERT_EQ(got(r, c), v < 0 ? 0u : static_cast<mpc::u64>(v)) << "width " << widths[i] << " at " << r << ", " << c;
        ASSERT_EQ(both(r, c), got(r, c)) << "select's ReLU, width " << widths[i];
        ASSERT_EQ(both(rows + r, c), v < 0 ? 0u : selected(r, c)) << "select, width " << widths[i] << " at " << r << ", " << c;
        const RingMatrix& with_bit = out.results.at("with_bit" + std::to_string(i));
        ASSERT_EQ(with_bit(r, c), got(r, c)) << "ReLU with its bit, width " << widths[i];
        ASSERT_EQ(with_bit(rows + r, c), v < 0 ? 0u : 1u) << "[x >= 0], width " << widths[i] << " at " << r << ", " << c;
      }
    }
  }
  EXPECT_EQ(protocols::fss::FssComparison::dealer_bytes_per_relu(64), 2u * (32 * 63 + 16) + 16);
  EXPECT_EQ(protocols::fss::FssComparison::dealer_bytes_per_select(64), 2u * (40 * 63 + 24) + 24);
}

// One key answers [x + c < 0] at several public offsets c (the range tests of an activation): exact
// at the thresholds and the width's edges, in one round (3PC: two), for the dealer bytes of a
// single comparison whatever the number of offsets.
TEST_P(Lookup, SignsAtSeveralOffsetsComeFromOneKey) {
  constexpr int kWidth = 24;
  const std::int64_t threshold = 5000, bound = (std::int64_t{1} << (kWidth - 1)) - 1 - threshold;
  RingMatrix x = random_words(3, 20, 91);
  for (Eigen::Index j = 0; j < x.size(); ++j) x.data()[j] = static_cast<mpc::u64>(static_cast<std::int64_t>(x.data()[j]) % bound);
  const std::int64_t edges[] = {-threshold, threshold, -threshold - 1, threshold - 1, -threshold + 1, threshold + 1, bound, -bound, 0};
  for (std::size_t i = 0; i < std::size(edges); ++i) x.data()[i] = static_cast<mpc::u64>(edges[i]);
  const mpc::u64 offsets[] = {static_cast<mpc::u64>(threshold), static_cast<mpc::u64>(-threshold), 0};
  std::uint64_t dealer_bytes[2] = {0, 0};  // P0 and P1 received, for three offsets and for one
  const auto out = run_session(GetParam(), 16, {x}, [&](Party& s) {
    KeyDealing dealing(s.proto());
    protocols::fss::FssComparison gate(dealing);
    const auto offline = [&] { return s.proto().mesh().stats().phase_total(protocols::kOfflinePhase).bytes_received; };
    const std::uint64_t before = offline();
    s.record("signs", s.timed("signs", [&] {
      protocols::fss::FssRound round(dealing);
      round.add(gate.prepare_signs(s.input(0), offsets, kWidth), protocols::Shape{3 * x.rows(), x.cols()});
      return std::move(round.run().front());
    }));
    const std::uint64_t middle = offline();
    s.record("one", gate.less_than_zero(s.input(0), kWidth));
    if (s.proto().mesh().self() == 1) dealer_bytes[0] = middle - before, dealer_bytes[1] = offline() - middle;
  });
  EXPECT_EQ(out.rounds.at("signs"), GetParam() == Backend::TwoPartyDealer ? 1u : 2u);
  const RingMatrix& signs = out.results.at("signs");
  for (std::size_t o = 0; o < std::size(offsets); ++o)
    for (Eigen::Index j = 0; j < x.size(); ++j) {
      const std::int64_t v = static_cast<std::int64_t>(x.data()[j]) + static_cast<std::int64_t>(offsets[o]);
      ASSERT_EQ(signs.data()[static_cast<Eigen::Index>(o) * x.size() + j], v < 0 ? 1u : 0u) << "offset " << o << " at " << j;
    }
  EXPECT_EQ(out.results.at("one"), RingMatrix(signs.bottomRows(x.rows())));
  EXPECT_EQ(dealer_bytes[0], dealer_bytes[1]) << "three offsets cost the keys of one";
}

// Shifting every component right by s gives floor(v / 2^s) - c with 0 <= c < components, modulo
// 2^(64 - s), for signed v of any size, negative ones and the ring's edges included.
TEST_P(Lookup, ShiftedComponentsGiveTheQuotientLessACarry) {
  const int shifts[] = {1, 7, 9, 32};
  RingMatrix v = random_words(4, 64, 3);
  for (Eigen::Index j = 0; j < 64; ++j) v(3, j) = static_cast<mpc::u64>(j - 32);  // small, around 0
  const auto out = run_session(GetParam(), 16, {v}, [&](Party& s) {
    for (int shift : shifts) s.record("s" + std::to_string(shift), protocols::ops::shift_components_right(s.input(0), shift));
  });
  const int components = protocols::ops::share_components(GetParam());
  for (int shift : shifts) {
    const RingMatrix& got = out.results.at("s" + std::to_string(shift));
    const mpc::u64 modulus_mask = (mpc::u64{1} << (64 - shift)) - 1;
    for (Eigen::Index j = 0; j < v.size(); ++j) {
      const mpc::u64 quotient = static_cast<mpc::u64>(static_cast<std::int64_t>(v.data()[j]) >> shift);
      const mpc::u64 carry = (quotient - got.data()[j]) & modulus_mask;
      ASSERT_LT(carry, static_cast<mpc::u64>(components)) << "shift " << shift << " element " << j;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Lookup, ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return backend_name(info.param); });

}  // namespace
}  // namespace ops_test
