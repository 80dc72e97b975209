// Input, reveal, local linear operations and secret x secret products of both backends, over TLS.
// Ring results must be exact.
#include "tests/protocols/backend_harness.hpp"

#include <array>

namespace protocols_test {
namespace {

class Arithmetic : public testing::TestWithParam<Backend> {};

TEST_P(Arithmetic, InputThenRevealToAllGivesTheInputToComputingParties) {
  const RingMatrix x = public_random(5, 7, 1), y = public_random(3, 2, 2);
  std::array<RingMatrix, kParties> got_x, got_y;
  run_backend(GetParam(), [&](Protocol& p) {
    const Share sx = input_from(p, 0, x), sy = input_from(p, 1, y);
    got_x[p.mesh().self()] = p.reveal(sx, protocols::kRevealToAll);
    got_y[p.mesh().self()] = p.reveal(sy, protocols::kRevealToAll);
  });
  const int computing = GetParam() == Backend::TwoPartyDealer ? 2 : 3;
  for (int i = 0; i < computing; ++i) {
    EXPECT_EQ(got_x[i], x) << "party " << i;
    EXPECT_EQ(got_y[i], y) << "party " << i;
  }
  if (computing == 2) {
    EXPECT_EQ(got_x[2].size(), 0) << "the dealer learns nothing";
  }
}

TEST_P(Arithmetic, RevealToOnePartyLeavesTheOthersEmpty) {
  const RingMatrix x = public_random(4, 4, 3);
  std::array<RingMatrix, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) { got[p.mesh().self()] = p.reveal(input_from(p, 0, x), 1); });
  EXPECT_EQ(got[1], x);
  EXPECT_EQ(got[0].size(), 0);
  EXPECT_EQ(got[2].size(), 0);
}

TEST_P(Arithmetic, SharesOfOneSecretLookRandomToEachParty) {
  const RingMatrix x = RingMatrix::Zero(8, 8);
  std::array<RingMatrix, kParties> first;
  run_backend(GetParam(), [&](Protocol& p) { first[p.mesh().self()] = input_from(p, 0, x).first; });
  // A share of zero that is zero (or equal to another party's) would reveal the input.
  EXPECT_NE(first[0], x);
  EXPECT_NE(first[1], x);
  EXPECT_NE(first[0], first[1]);
}

TEST_P(Arithmetic, LocalLinearOperationsAreExact) {
  const RingMatrix x = public_random(6, 5, 4), y = public_random(6, 5, 5), c = public_random(6, 5, 6);
  const RingMatrix right = public_random(5, 3, 7), left = public_random(2, 6, 8);
  const mpc::u64 k = 0x9e3779b97f4a7c15ULL;
  std::array<std::array<RingMatrix, 8>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    const Share sx = input_from(p, 0, x), sy = input_from(p, 1, y);
    const Share results[] = {p.add(sx, sy),           p.sub(sx, sy),           p.neg(sx),
                             p.add_public(sx, c),     p.scale(sx, k),          p.mul_public(sx, c),
                             p.matmul_public(sx, right), p.public_matmul(left, sx)};
    for (int i = 0; i < 8; ++i) got[p.mesh().self()][i] = p.reveal(results[i], 1);
  });
  const auto& r = got[1];
  EXPECT_EQ(r[0], RingMatrix(x + y));
  EXPECT_EQ(r[1], RingMatrix(x - y));
  EXPECT_EQ(r[2], RingMatrix(RingMatrix::Zero(6, 5) - x));
  EXPECT_EQ(r[3], RingMatrix(x + c));
  EXPECT_EQ(r[4], RingMatrix(x * k));
  EXPECT_EQ(r[5], RingMatrix(x.cwiseProduct(c)));
  EXPECT_EQ(r[6], RingMatrix(x * right));
  EXPECT_EQ(r[7], RingMatrix(left * x));
}

TEST_P(Arithmetic, SecretProductsAreExactInTheRing) {
  const RingMatrix a = public_random(7, 9, 9), b = public_random(7, 9, 10);
  const RingMatrix m = public_random(4, 33, 11), n = public_random(33, 6, 12);
  std::array<std::array<RingMatrix, 2>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    const Share sa = input_from(p, 0, a), sb = input_from(p, 1, b);
    const Share sm = input_from(p, 1, m), sn = input_from(p, 0, n);
    got[p.mesh().self()][0] = p.reveal(p.mul(sa, sb), 0);
    got[p.mesh().self()][1] = p.reveal(p.matmul(sm, sn), 0);
  });
  EXPECT_EQ(got[0][0], RingMatrix(a.cwiseProduct(b)));
  EXPECT_EQ(got[0][1], RingMatrix(m * n));
}

TEST_P(Arithmetic, BatchedProductsOfDifferentShapesAreExact) {
  const std::array<RingMatrix, 3> xs = {public_random(1, 8, 20), public_random(3, 5, 21), public_random(16, 2, 22)};
  const std::array<RingMatrix, 3> ys = {public_random(8, 4, 23), public_random(5, 5, 24), public_random(2, 1, 25)};
  std::array<std::vector<RingMatrix>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    std::vector<Share> sx, sy, ex, ey;
    for (int i = 0; i < 3; ++i) {
      sx.push_back(input_from(p, 0, xs[i]));
      sy.push_back(input_from(p, 1, ys[i]));
      ex.push_back(sx.back());
      ey.push_back(input_from(p, 1, xs[i]));
    }
    for (const Share& z : p.matmul(sx, sy)) got[p.mesh().self()].push_back(p.reveal(z, 1));
    for (const Share& z : p.mul(ex, ey)) got[p.mesh().self()].push_back(p.reveal(z, 1));
  });
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(got[1][i], RingMatrix(xs[i] * ys[i])) << "matmul " << i;
    EXPECT_EQ(got[1][3 + i], RingMatrix(xs[i].cwiseProduct(xs[i]))) << "mul " << i;
  }
}

TEST_P(Arithmetic, MismatchedShapesAreRejectedWithAClearMessage) {
  run_backend(GetParam(), [&](Protocol& p) {
    const Share a = input_from(p, 0, public_random(2, 3, 30)), b = input_from(p, 1, public_random(4, 2, 31));
    try {
      p.matmul(a, b);
      ADD_FAILURE() << "matmul of 2x3 by 4x2 was accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("inner dimensions differ (3 vs 4)"), std::string::npos) << e.what();
    }
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, Arithmetic, testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         backend_name);

}  // namespace
}  // namespace protocols_test
