// Truncation and fixed-point products. Contract: for |x| < 2^62 the result is floor(x / 2^d) or
// floor(x / 2^d) + 1, never anything else; checked on 10^5 values spread over the whole range,
// both signs, and right up to the bound.
#include "tests/protocols/backend_harness.hpp"

#include <cmath>

namespace protocols_test {
namespace {

constexpr mpc::i64 kBound = mpc::i64{1} << 62;

// 10^5 signed values: uniform over (-2^62, 2^62), uniform over small magnitudes of every bit
// length, and the values within 1000 of the bounds, of 0 and of +-2^d.
RingMatrix truncation_inputs(int bits) {
  const int rows = 100, cols = 1000;
  const RingMatrix noise = public_random(rows, cols, 80);
  RingMatrix x(rows, cols);
  for (Eigen::Index i = 0; i < x.size(); ++i) {
    const mpc::u64 r = noise.data()[i];
    const mpc::i64 sign = (r & 1) ? -1 : 1;
    mpc::i64 v = 0;
    switch (i % 4) {
      case 0: v = static_cast<mpc::i64>(r >> 2) * sign; break;                        // |v| < 2^62
      case 1: v = static_cast<mpc::i64>((r >> 8) >> ((r >> 1) % 56)) * sign; break;   // every magnitude
      case 2: v = sign > 0 ? kBound - 1 - static_cast<mpc::i64>((r >> 2) % 1000)
                           : -kBound + static_cast<mpc::i64>((r >> 2) % 1000); break;  // near the bounds
      default: v = static_cast<mpc::i64>((r >> 2) % 2001) - 1000 + sign * (mpc::i64{1} << bits); break;
    }
    x.data()[i] = static_cast<mpc::u64>(v);
  }
  return x;
}

class Truncation : public testing::TestWithParam<Backend> {};

TEST_P(Truncation, IsFloorOrOneMoreOverTheWholeRange) {
  for (int bits : {16, 37}) {
    const RingMatrix x = truncation_inputs(bits);
    std::array<RingMatrix, kParties> got;
    run_backend(GetParam(), [&](Protocol& p) { got[p.mesh().self()] = p.reveal(p.truncate(input_from(p, 0, x), bits), 1); });
    int exact = 0;
    for (Eigen::Index i = 0; i < x.size(); ++i) {
      const mpc::i64 floor = static_cast<mpc::i64>(mpc::arithmetic_shift(x.data()[i], bits));
      const mpc::i64 diff = static_cast<mpc::i64>(got[1].data()[i]) - floor;
      ASSERT_TRUE(diff == 0 || diff == 1) << "x = " << static_cast<mpc::i64>(x.data()[i]) << ", bits = " << bits
                                           << ", off by " << diff;
      exact += diff == 0;
    }
    // The one-ulp error is a borrow from the low bits: both outcomes occur, neither dominates.
    EXPECT_GT(exact, x.size() / 10) << "bits = " << bits;
    EXPECT_LT(exact, x.size() * 9 / 10) << "bits = " << bits;
  }
}

TEST_P(Truncation, BatchedTensorsAreEachTruncated) {
  const RingMatrix a = truncation_inputs(16).topLeftCorner(3, 50), b = truncation_inputs(16).bottomRightCorner(7, 2);
  std::array<std::vector<RingMatrix>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    const Share xs[] = {input_from(p, 0, a), input_from(p, 1, b)};
    for (const Share& z : p.truncate(xs, 16)) got[p.mesh().self()].push_back(p.reveal(z, 0));
  });
  const RingMatrix inputs[] = {a, b};
  for (int t = 0; t < 2; ++t)
    for (Eigen::Index i = 0; i < inputs[t].size(); ++i) {
      const mpc::i64 diff = static_cast<mpc::i64>(got[0][t].data()[i] - mpc::arithmetic_shift(inputs[t].data()[i], 16));
      ASSERT_TRUE(diff == 0 || diff == 1) << "tensor " << t << " element " << i;
    }
}

TEST_P(Truncation, RejectsShiftsOutsideTheSupportedRange) {
  run_backend(GetParam(), [&](Protocol& p) {
    const Share x = input_from(p, 0, public_random(2, 2, 90));
    EXPECT_THROW(p.truncate(x, 0), std::invalid_argument);
    EXPECT_THROW(p.truncate(x, 62), std::invalid_argument);
  });
}

// Fixed-point products against double precision. The ring product of the encoded inputs is exact,
// so the only error is the truncation: the result lies in (exact - 2^-F, exact + 2^-F] where exact
// is the product of the encoded (rounded) inputs.
TEST_P(Truncation, FixedPointProductsMatchDoublePrecision) {
  const mpc::FixedPoint fp;
  const double ulp = std::ldexp(1.0, -fp.frac_bits());
  const mpc::FloatMatrix x = public_reals(8, 64, 8.0, 100), y = public_reals(64, 16, 8.0, 101);
  const mpc::FloatMatrix u = public_reals(8, 64, 30.0, 102);
  std::array<std::array<RingMatrix, 2>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    const Share sx = input_from(p, 0, fp.encode(x)), sy = input_from(p, 1, fp.encode(y)), su = input_from(p, 1, fp.encode(u));
    got[p.mesh().self()][0] = p.reveal(p.matmul_fp(sx, sy), 1);
    got[p.mesh().self()][1] = p.reveal(p.mul_fp(sx, su), 1);
  });
  const mpc::FloatMatrix xr = fp.decode(fp.encode(x)), yr = fp.decode(fp.encode(y)), ur = fp.decode(fp.encode(u));
  const mpc::FloatMatrix want_matmul = xr * yr, want_mul = xr.cwiseProduct(ur);
  const mpc::FloatMatrix err_matmul = fp.decode(got[1][0]) - want_matmul, err_mul = fp.decode(got[1][1]) - want_mul;
  EXPECT_LE(err_matmul.cwiseAbs().maxCoeff(), ulp);
  EXPECT_LE(err_mul.cwiseAbs().maxCoeff(), ulp);
  // Against the unrounded reals: encoding adds at most k * (|x| + |y|) * 2^-(F+1) to a dot product.
  EXPECT_LE((fp.decode(got[1][0]) - x * y).cwiseAbs().maxCoeff(), 64 * 16 * ulp / 2 + ulp);
}

INSTANTIATE_TEST_SUITE_P(Backends, Truncation, testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         backend_name);

}  // namespace
}  // namespace protocols_test
