// Accuracy of the smooth operators against double precision, on both backends and for 16 and 18
// fraction bits, over the input ranges the transformer produces. Prints one table row per operator
// (the source of docs/operators.md).
#include "tests/ops/ops_harness.hpp"

#include "protocols/ops/polynomial.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <ostream>

namespace ops_test {
namespace {

struct Setting {
  Backend backend;
  int frac_bits;
};

void PrintTo(const Setting& s, std::ostream* os) { *os << backend_name(s.backend) << " F=" << s.frac_bits; }

class Approximation : public ::testing::TestWithParam<Setting> {};

FloatMatrix log_uniform(Eigen::Index rows, Eigen::Index cols, double lo, double hi, unsigned seed) {
  return uniform(rows, cols, std::log(lo), std::log(hi), seed).array().exp().matrix();
}

FloatMatrix softmax_reference(const FloatMatrix& x, const FloatMatrix& mask) {
  FloatMatrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    double m = -1e300, sum = 0;
    for (Eigen::Index j = 0; j < x.cols(); ++j)
      if (mask(r, j) != 0) m = std::max(m, x(r, j));
    for (Eigen::Index j = 0; j < x.cols(); ++j) sum += mask(r, j) != 0 ? std::exp(x(r, j) - m) : 0.0;
    for (Eigen::Index j = 0; j < x.cols(); ++j) out(r, j) = mask(r, j) != 0 ? std::exp(x(r, j) - m) / sum : 0.0;
  }
  return out;
}

FloatMatrix norm_reference(const FloatMatrix& x, const FloatMatrix& gain, const FloatMatrix* bias, double eps) {
  FloatMatrix out(x.rows(), x.cols());
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const double mean = bias ? x.row(r).mean() : 0.0;
    const double var = (x.row(r).array() - mean).square().mean();
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      out(r, j) = (x(r, j) - mean) / std::sqrt(var + eps) * gain(0, j) + (bias ? (*bias)(0, j) : 0.0);
    }
  }
  return out;
}

// Rows with variances spread over 1e-2 .. 1e3 (LayerNorm inputs of real models).
FloatMatrix spread_rows(Eigen::Index cols, unsigned seed) {
  const double stds[] = {0.1, 1.0, 10.0, 31.6};
  FloatMatrix x(4, cols);
  for (Eigen::Index r = 0; r < 4; ++r) x.row(r) = uniform(1, cols, -1.7, 1.7, seed + r) * stds[r] + FloatMatrix::Constant(1, cols, 0.3 * r);
  return x;
}

struct Check {
  const char* op;
  const char* range;
  FloatMatrix want;
  double bound;  // max abs error allowed at 16 fraction bits (halved expectations are not asserted at 18)
  bool relative = false;
};

TEST_P(Approximation, OperatorsMatchDoublePrecision) {
  const Setting setting = GetParam();
  const mpc::FixedPoint fp(setting.frac_bits);
  const FloatMatrix exp_in = uniform(1, 512, -30, 0, 1);
  const FloatMatrix recip_in = log_uniform(1, 256, 1, 4096, 2);
  const FloatMatrix rsqrt_in = log_uniform(1, 256, 1e-2, 1e3, 3);
  const FloatMatrix gelu_in = uniform(1, 1024, -8, 8, 4);
  const FloatMatrix silu_in = uniform(1, 1024, -16, 16, 5);
  const FloatMatrix logits = uniform(4, 256, -30, 30, 6);
  FloatMatrix mask = (uniform(4, 256, 0, 1, 7).array() < 0.7).cast<double>().matrix();
  mask(0, 0) = 1;
  const FloatMatrix ln_in = spread_rows(64, 8);
  const FloatMatrix gain = uniform(1, 64, 0.5, 1.5, 12), bias = uniform(1, 64, -1, 1, 13);
  const RingMatrix mask_ring = mask.cast<mpc::u64>();
  const FloatMatrix long_logits = uniform(2, 4096, -30, 30, 14);
  const FloatMatrix cutoff_in = uniform(1, 256, -40, 0, 15);
  // Where exp's pieces meet: 0, one unit below, the boundaries of the lookup's low and middle parts
  // (1/128 and 1) and the far end of both methods' ranges.
  FloatMatrix exp_edges(1, 14);
  exp_edges << 0, -std::ldexp(1.0, -setting.frac_bits), -1.0 / 128, -1.0 / 128 - std::ldexp(1.0, -setting.frac_bits), -0.5,
      -1, -1 - std::ldexp(1.0, -setting.frac_bits), -2, -3, -4, -17, -100, -150, -179;

  const auto out = run_session(setting.backend, setting.frac_bits,
                               {fp.encode(exp_in), fp.encode(recip_in), fp.encode(rsqrt_in), fp.encode(gelu_in),
                                fp.encode(silu_in), fp.encode(logits), mask_ring, fp.encode(ln_in), fp.encode(gain),
                                fp.encode(bias), fp.encode(long_logits), fp.encode(cutoff_in), fp.encode(exp_edges),
                                fp.encode(FloatMatrix(ln_in.rowwise().mean()))},
                               [&](Party& s) {
                                 SecureOps& ops = s.ops();
                                 s.record("exp", s.timed("exp", [&] { return ops.exp_negative(s.input(0)); }));
                                 s.record("reciprocal", s.timed("reciprocal", [&] { return ops.reciprocal(s.input(1)); }));
                                 s.record("rsqrt", s.timed("rsqrt", [&] { return ops.rsqrt(s.input(2)); }));
                                 s.record("gelu", s.timed("gelu", [&] { return ops.gelu(s.input(3)); }));
                                 s.record("silu", s.timed("silu", [&] { return ops.silu(s.input(4)); }));
                                 s.record("softmax", s.timed("softmax", [&] { return ops.softmax(s.input(5)); }));
                                 s.record("softmax_public_mask", ops.softmax(s.input(5), mask_ring));
                                 s.record("softmax_secret_mask", ops.softmax(s.input(5), s.input(6)));
                                 s.record("layer_norm", s.timed("layer_norm", [&] {
                                   return ops.layer_norm(s.input(7), s.input(8), s.input(9));
                                 }));
                                 // The rows' means handed in (as the secure transformer does): no mean computed.
                                 s.record("layer_norm_known_mean", s.timed("layer_norm_known_mean", [&] {
                                   return ops.layer_norm(s.input(7), s.input(8), s.input(9), 1e-5, &s.input(13));
                                 }));
                                 s.record("rms_norm", s.timed("rms_norm", [&] { return ops.rms_norm(s.input(7), s.input(8)); }));
                                 s.record("softmax_4096", s.timed("softmax_4096", [&] { return ops.softmax(s.input(10)); }));
                                 protocols::ops::ExpOptions clipped;
                                 clipped.cutoff = -20.0;
                                 s.record("exp_cutoff", ops.exp_negative(s.input(11), clipped));
                                 s.record("exp_edges", ops.exp_negative(s.input(12)));
                               });

  const FloatMatrix ones = FloatMatrix::Ones(4, 256);
  std::vector<Check> checks;
  checks.push_back({"exp", "[-30, 0]", exp_in.array().exp().matrix(), 1e-4});
  checks.push_back({"reciprocal", "[1, 4096]", recip_in.cwiseInverse(), 6e-5});
  checks.push_back({"rsqrt", "[1e-2, 1e3]", rsqrt_in.cwiseSqrt().cwiseInverse(), 1e-3, true});
  checks.push_back({"gelu", "[-8, 8]", gelu_in.unaryExpr(&protocols::ops::gelu_reference), 5e-4});
  checks.push_back({"silu", "[-16, 16]", silu_in.unaryExpr(&protocols::ops::silu_reference), 3.5e-3});
  checks.push_back({"softmax", "4x256 logits in [-30, 30]", softmax_reference(logits, ones), 2e-4});
  checks.push_back({"softmax_public_mask", "same, 30% masked", softmax_reference(logits, mask), 2e-4});
  checks.push_back({"softmax_secret_mask", "same, 30% masked", softmax_reference(logits, mask), 2e-4});
  checks.push_back({"softmax_4096", "2x4096 logits in [-30, 30]", softmax_reference(long_logits, FloatMatrix::Ones(2, 4096)), 2e-4});
  FloatMatrix clipped_want = cutoff_in.array().exp().matrix();
  for (Eigen::Index i = 0; i < clipped_want.size(); ++i)
    if (cutoff_in.data()[i] < -20.0) clipped_want.data()[i] = 0.0;
  checks.push_back({"exp_cutoff", "[-40, 0], cut-off -20", clipped_want, 1e-4});
  checks.push_back({"exp_edges", "0 .. -179 at the pieces' edges", exp_edges.array().exp().matrix(), 1e-4});
  checks.push_back({"layer_norm", "4x64, variance 1e-2..1e3", norm_reference(ln_in, gain, &bias, 1e-5), 2e-3});
  checks.push_back({"layer_norm_known_mean", "same, means given", norm_reference(ln_in, gain, &bias, 1e-5), 2e-3});
  checks.push_back({"rms_norm", "4x64, mean square 1e-2..1e3", norm_reference(ln_in, gain, nullptr, 1e-6), 2e-3});

  for (const auto& c : checks) {
    const FloatMatrix got = fp.decode(out.results.at(c.op));
    ErrorStats e = compare(got, c.want);
    std::printf("| %s | %s | %s | %d | %.2e | %.2e |", c.op, backend_name(setting.backend).c_str(), c.range,
                setting.frac_bits, e.max_abs, e.mean_abs);
    if (c.relative) {
      const FloatMatrix rel = ((got - c.want).array() / c.want.array()).abs().matrix();
      std::printf(" rel max %.2e", rel.maxCoeff());
      EXPECT_LE(rel.maxCoeff(), c.bound) << c.op;
    } else {
      EXPECT_LE(e.max_abs, c.bound) << c.op;
    }
    std::printf(" | rounds %llu\n", static_cast<unsigned long long>(out.rounds.count(c.op) ? out.rounds.at(c.op) : 0));
  }
  // Round counts do not depend on the data or the number of rows. softmax over n columns =
  // ceil(log4 n) max levels (comparison, 2 AND levels, bit conversion, multiplication) + exp
  // (1 + 7 squaring levels) + reciprocal (A2B, prefix OR, bit conversion, normalisation, a cubic
  // initial guess, 1 Newton step) + 1 product. A multiplication level is mul + truncate: 2 rounds in 2PC, 3 in 3PC.
  // With FSS (2PC): binary levels of one ReLU gate, max(a, b) = b + ReLU(a - b); exp by
  // lookups (lookup, products, the truncated product gate, truncation: 4); the division by the row sum: one
  // comparison round, the scalings of the sum and of the entries in one round, a lookup of 1/m, the
  // product and its truncation: 5.
  const bool two_party = setting.backend == Backend::TwoPartyDealer;
  // In 3PC an FSS comparison takes a second round (the resharing) and a product one round.
  if (fss_comparisons(setting.backend)) {
    const std::uint64_t level = two_party ? 1 : 2, rest = two_party ? 4 + 5 : 7 + 8;
    EXPECT_EQ(out.rounds.at("softmax"), 8 * level + rest);
    EXPECT_EQ(out.rounds.at("softmax_4096"), 12 * level + rest);
    // GeLU/SiLU: the comparisons and the line lookup in one round, the products in one, and the
    // slope term's truncation and product with the inside bit in one gate.
    EXPECT_EQ(out.rounds.at("gelu"), two_party ? 3u : 5u);
    EXPECT_EQ(out.rounds.at("silu"), two_party ? 3u : 5u);
    EXPECT_EQ(out.rounds.at("exp"), two_party ? 4u : 7u);
    // Normalisation (2), lookup, Newton step (4), rescaling (2). LayerNorm: the mean's truncation,
    // the products, their truncation in the round of the highest bit's comparisons, the scalings,
    // a lookup, the product and its truncation.
    EXPECT_EQ(out.rounds.at("reciprocal"), two_party ? 9u : 14u);
    EXPECT_EQ(out.rounds.at("layer_norm"), two_party ? 7u : 11u);
    EXPECT_EQ(out.rounds.at("rms_norm"), two_party ? 6u : 9u);
  } else {
    const std::uint64_t max_level = two_party ? 11 : 13, rest = two_party ? 16 + 27 + 2 : 24 + 36 + 3;
    EXPECT_EQ(out.rounds.at("softmax"), 4 * max_level + rest);
    EXPECT_EQ(out.rounds.at("softmax_4096"), 6 * max_level + rest);
  }
  // Known means save the mean's truncation: one round in 2PC, two in 3PC.
  EXPECT_EQ(out.rounds.at("layer_norm_known_mean") + (two_party ? 1u : 2u), out.rounds.at("layer_norm"));
  // Masked entries and inputs below the cut-off contribute exactly 0.
  for (Eigen::Index i = 0; i < cutoff_in.size(); ++i) {
    if (cutoff_in.data()[i] < -20.0) {
      EXPECT_EQ(out.results.at("exp_cutoff").data()[i], 0u);
    }
  }
  for (Eigen::Index i = 0; i < mask.size(); ++i) {
    if (mask.data()[i] == 0) {
      EXPECT_EQ(out.results.at("softmax_public_mask").data()[i], 0u);
      EXPECT_EQ(out.results.at("softmax_secret_mask").data()[i], 0u);
    }
  }
}

// A prompt's causal softmax in blocks of query rows equals one softmax under the causal mask: the
// same probabilities within the softmax's tolerance, exact zeros beyond each row's position, and
// the softmax's rounds once per block. Two heads, 12 query rows at positions 20..31; a budget of
// 256 scores cuts them into blocks of rows 0-4, 5-8 and 9-11 (causal prefixes of 25, 29 and 32
// keys, all with the same number of max levels, so each block costs what one softmax does).
TEST_P(Approximation, CausalSoftmaxInBlocksMatchesOneSoftmax) {
  const Setting setting = GetParam();
  const mpc::FixedPoint fp(setting.frac_bits);
  constexpr int kHeads = 2;
  constexpr Eigen::Index kFirst = 20, kRows = 12, kBudget = 256;
  const FloatMatrix scores = uniform(kHeads * kRows, kFirst + kRows, -30, 30, 21);
  const RingMatrix mask = protocols::ops::causal_mask(kHeads, kFirst, kRows);
  const auto out = run_session(setting.backend, setting.frac_bits, {fp.encode(scores)}, [&](Party& s) {
    SecureOps& ops = s.ops();
    s.record("one", s.timed("one", [&] { return ops.causal_softmax(s.input(0), kHeads, kFirst); }));
    s.record("blocks", s.timed("blocks", [&] { return ops.causal_softmax(s.input(0), kHeads, kFirst, kBudget); }));
  });
  const FloatMatrix want = softmax_reference(scores, mask.cast<double>());
  for (const char* run : {"one", "blocks"}) {
    EXPECT_LE(compare(fp.decode(out.results.at(run)), want).max_abs, 2e-4) << run;
    for (Eigen::Index i = 0; i < mask.size(); ++i)
      if (mask.data()[i] == 0) EXPECT_EQ(out.results.at(run).data()[i], 0u) << run << " entry " << i;
  }
  EXPECT_EQ(out.rounds.at("blocks"), 3 * out.rounds.at("one"));
}

INSTANTIATE_TEST_SUITE_P(Settings, Approximation,
                         ::testing::Values(Setting{Backend::TwoPartyDealer, 16}, Setting{Backend::ThreePartyReplicated, 16},
                                           Setting{Backend::TwoPartyDealer, 18}, Setting{Backend::ThreePartyReplicated, 18}),
                         [](const auto& info) {
                           return std::string(info.param.backend == Backend::TwoPartyDealer ? "TwoParty" : "ThreeParty") +
                                  "F" + std::to_string(info.param.frac_bits);
                         });

}  // namespace
}  // namespace ops_test
