// GeLU, SiLU, softmax and argmax on narrowed comparison widths (|x| < 2^(value_bits - 2), the
// bounds the transformer proves from its weights) agree with double precision up to the edges of
// the bound, like the full-width operators, on both backends and both comparison methods; the
// narrow comparisons take no more rounds than the full ones.
#include "tests/ops/ops_harness.hpp"

#include "protocols/ops/polynomial.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace ops_test {
namespace {

constexpr int kFrac = 16;

class ValueWidth : public ::testing::TestWithParam<Backend> {};

// Values spread over (-limit, limit), with both ends one unit inside.
FloatMatrix up_to_the_bound(Eigen::Index cols, double limit, unsigned seed) {
  FloatMatrix x = uniform(1, cols, -limit, limit, seed);
  const double unit = std::ldexp(1.0, -kFrac);
  x(0, 0) = limit - unit;
  x(0, 1) = -limit + unit;
  return x;
}

TEST_P(ValueWidth, NarrowOperatorsMatchDoublePrecisionUpToTheirBound) {
  const mpc::FixedPoint fp(kFrac);
  const int activation_bits = kFrac + 2 + 4;  // |x| < 16: wider than GeLU's table, narrower than SiLU's
  const int score_bits = kFrac + 2 + 8;       // |x| < 256
  const int logit_bits = kFrac + 2 + 6;       // |x| < 64
  const FloatMatrix act_in = up_to_the_bound(512, 16.0, 21);
  // Rows near either end of the bound (within exp's input range of each other) and one around 0.
  const double unit = std::ldexp(1.0, -kFrac);
  FloatMatrix scores(3, 64);
  scores.row(0) = uniform(1, 64, 150, 256 - unit, 22);
  scores.row(1) = uniform(1, 64, -256 + unit, -150, 23);
  scores.row(2) = up_to_the_bound(64, 16.0, 24);
  scores(0, 3) = 256 - unit;
  scores(1, 3) = -256 + unit;
  FloatMatrix logits(2, 101);
  for (Eigen::Index r = 0; r < 2; ++r) logits.row(r) = up_to_the_bound(101, 64.0, 30 + r);
  logits(1, 40) = logits(1, 70) = 63.99;  // a tie above the rest: the first one wins
  FloatMatrix mask = (uniform(3, 64, 0, 1, 40).array() < 0.6).cast<double>().matrix();
  mask.col(0).setOnes();
  const RingMatrix mask_ring = mask.cast<mpc::u64>();

  const auto out = run_session(GetParam(), kFrac, {fp.encode(act_in), fp.encode(scores), fp.encode(logits), mask_ring}, [&](Party& s) {
    SecureOps& ops = s.ops();
    s.record("gelu", s.timed("gelu", [&] { return ops.gelu(s.input(0), activation_bits); }));
    s.timed("gelu_full", [&] { return ops.gelu(s.input(0)); });
    s.record("silu", ops.silu(s.input(0), activation_bits));
    s.record("softmax", s.timed("softmax", [&] { return ops.softmax(s.input(1), {}, score_bits); }));
    s.timed("softmax_full", [&] { return ops.softmax(s.input(1)); });
    s.record("softmax_masked", ops.softmax(s.input(1), mask_ring, score_bits));
    s.record("argmax", s.timed("argmax", [&] { return ops.argmax(s.input(2), logit_bits).one_hot; }));
    s.timed("argmax_full", [&] { return ops.argmax(s.input(2)).one_hot; });
  });

  const auto decoded = [&](const char* name) { return fp.decode(out.results.at(name)); };
  EXPECT_LT((decoded("gelu") - act_in.unaryExpr(&protocols::ops::gelu_reference)).cwiseAbs().maxCoeff(), 5e-4);
  EXPECT_LT((decoded("silu") - act_in.unaryExpr(&protocols::ops::silu_reference)).cwiseAbs().maxCoeff(), 3.5e-3);
  for (Eigen::Index r = 0; r < scores.rows(); ++r) {
    const auto reference = [&](const FloatMatrix& keep) {
      Eigen::RowVectorXd e(scores.cols());
      const double m = (keep.row(r).array() > 0).select(scores.row(r).array(), -1e300).maxCoeff();
      for (Eigen::Index j = 0; j < scores.cols(); ++j) e(j) = keep(r, j) > 0 ? std::exp(scores(r, j) - m) : 0.0;
      return Eigen::RowVectorXd(e / e.sum());
    };
    EXPECT_LT((decoded("softmax").row(r) - reference(FloatMatrix::Ones(3, 64))).cwiseAbs().maxCoeff(), 2e-4) << r;
    EXPECT_LT((decoded("softmax_masked").row(r) - reference(mask)).cwiseAbs().maxCoeff(), 2e-4) << r;
  }
  for (Eigen::Index r = 0; r < logits.rows(); ++r) {
    Eigen::Index best = 0;
    logits.row(r).maxCoeff(&best);
    for (Eigen::Index j = 0; j < logits.cols(); ++j) EXPECT_EQ(out.results.at("argmax")(r, j), j == best ? 1u : 0u) << r;
  }
  for (const char* op : {"gelu", "softmax", "argmax"})
    EXPECT_LE(out.rounds.at(op), out.rounds.at(std::string(op) + "_full")) << op;
}

// GeLU and SiLU of a product not yet truncated (2F fraction bits, as the MLP's input comes out of
// its matmul): the same values as on the truncated input, the thresholds' neighbourhoods
// included; with FSS the truncation takes no round of its own.
TEST_P(ValueWidth, ActivationsOfUntruncatedInputsMatchDoublePrecision) {
  const mpc::FixedPoint fp(kFrac), fp_raw(2 * kFrac);
  const int activation_bits = kFrac + 2 + 5;  // |x| < 32
  FloatMatrix x = up_to_the_bound(512, 32.0, 25);
  const double unit = std::ldexp(1.0, -kFrac);
  Eigen::Index at = 2;
  for (double threshold : {8.0 - 4.0 / 64, 16.0 - 4.0 / 32})  // GeLU's and SiLU's
    for (double sign : {-1.0, 1.0})
      for (double ulps : {-3.0, -1.0, -0.4, 0.0, 0.4, 1.0, 3.0}) x(0, at++) = sign * (threshold + ulps * unit);
  bool fss = false;
  const auto out = run_session(GetParam(), kFrac, {fp_raw.encode(x), fp.encode(x)}, [&](Party& s) {
    SecureOps& ops = s.ops();
    fss = ops.comparisons() == protocols::Comparisons::fss;
    s.record("gelu_raw", s.timed("gelu_raw", [&] { return ops.gelu(s.input(0), activation_bits, kFrac); }));
    s.timed("gelu", [&] { return ops.gelu(s.input(1), activation_bits); });
    s.record("silu_raw", ops.silu(s.input(0), activation_bits, kFrac));
    s.timed("truncate", [&] { return s.proto().truncate(s.input(0), kFrac); });
  });
  const auto decoded = [&](const char* name) { return fp.decode(out.results.at(name)); };
  EXPECT_LT((decoded("gelu_raw") - x.unaryExpr(&protocols::ops::gelu_reference)).cwiseAbs().maxCoeff(), 5e-4);
  EXPECT_LT((decoded("silu_raw") - x.unaryExpr(&protocols::ops::silu_reference)).cwiseAbs().maxCoeff(), 3.5e-3);
  EXPECT_EQ(out.rounds.at("gelu_raw"), out.rounds.at("gelu") + (fss ? 0 : out.rounds.at("truncate")));
}

TEST_P(ValueWidth, WidthsOutsideTheRingAreRefused) {
  const mpc::FixedPoint fp(kFrac);
  run_session(GetParam(), kFrac, {fp.encode(FloatMatrix::Zero(1, 4))}, [&](Party& s) {
    EXPECT_THROW(s.ops().gelu(s.input(0), 65), std::invalid_argument);
    EXPECT_THROW(s.ops().gelu(s.input(0), 40, 30), std::invalid_argument);  // 2^68 is outside the ring
    EXPECT_THROW(s.ops().softmax(s.input(0), {}, 2), std::invalid_argument);
    EXPECT_THROW(s.ops().argmax(s.input(0), 0), std::invalid_argument);
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, ValueWidth, ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return info.param == Backend::TwoPartyDealer ? "TwoParty" : "ThreeParty"; });

}  // namespace
}  // namespace ops_test
