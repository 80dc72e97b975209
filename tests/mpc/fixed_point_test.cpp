#include "mpc/fixed_point.hpp"

#include <gtest/gtest.h>

using namespace mpc;

TEST(FixedPoint, RoundTripWithinHalfUlp) {
  for (int f : {12, 16, 18, 24}) {
    FixedPoint fp(f);
    for (double x : {0.0, 1.0, -1.0, 3.14159, -2718.28, 1e-3, -1e-3, 123456.789}) {
      EXPECT_NEAR(fp.decode(fp.encode(x)), x, 0.5 / fp.scale() + 1e-12) << "f=" << f << " x=" << x;
    }
  }
}

TEST(FixedPoint, RingArithmeticMatchesReals) {
  FixedPoint fp(16);
  const u64 a = fp.encode(-3.25), b = fp.encode(1.5);
  EXPECT_DOUBLE_EQ(fp.decode(a + b), -1.75);
  EXPECT_DOUBLE_EQ(fp.decode(arithmetic_shift(a * b, 16)), -4.875);
}

TEST(FixedPoint, MatrixEncodeDecode) {
  FixedPoint fp(16);
  FloatMatrix x(2, 3);
  x << 0.5, -0.25, 7, -7, 100.125, -0.0078125;
  EXPECT_TRUE(fp.decode(fp.encode(x)).isApprox(x));
}

TEST(FixedPoint, RejectsAbsurdFractionBits) {
  EXPECT_THROW(FixedPoint(-1), std::invalid_argument);
  EXPECT_THROW(FixedPoint(63), std::invalid_argument);
}
