// What a party receives must not depend on the other parties' secrets: with two different prompts
// of the same length, the model owner (P0) and the user (P1) receive byte streams of the same
// length whose byte values are indistinguishable from each other and from uniform.
//
// Masked values in Z_2^64 are uniform whatever they hide, so under a correct protocol every
// byte-value histogram below is a sample of the uniform distribution. Each test's p-value is then
// itself uniform on [0, 1]; the threshold 1e-6 makes a false alarm across this file's 12 checks
// about 1e-5 per run, while a leak of plaintext values (mostly zero high bytes) or of a reused
// mask gives p-values far below it (see chi_square_test.cpp for the test's power).
// The phase "setup" is left out: it carries the public session description.
#include "model/weights.hpp"
#include "tests/privacy/chi_square.hpp"
#include "tests/privacy/privacy_run.hpp"

#include <gtest/gtest.h>

#include <cstdio>

namespace privacy_test {
namespace {

using protocols::Backend;

constexpr double kSignificance = 1e-6;
constexpr int kNewTokens = 3;
// Enough bytes that a bias of a few percent in one byte value is detected (chi_square_test.cpp).
constexpr std::size_t kMinimumBytes = 100'000;

const std::vector<int> kPromptA{5, 17, 42, 3, 60, 11, 7, 29};
const std::vector<int> kPromptB{33, 1, 58, 20, 9, 47, 12, 61};

const model::TransformerWeights& tiny_weights() {
  static const model::TransformerWeights weights = model::load_weights(tiny_model_dir());
  return weights;
}

std::string name_of(int party) { return party == kModelOwner ? "P0 (model owner)" : "P1 (user)"; }

void expect_uniform(const net::Bytes& bytes, const std::string& what) {
  const ChiSquareResult r = chi_square_vs_uniform(byte_histogram(bytes));
  std::printf("  %-40s vs uniform: chi2 %.1f (%d dof), p %.3g\n", what.c_str(), r.statistic, r.degrees_of_freedom,
              r.p_value);
  EXPECT_GT(r.p_value, kSignificance) << what << " is not uniform: chi2 " << r.statistic;
}

class MessageIndependenceTest : public ::testing::TestWithParam<Backend> {};

TEST_P(MessageIndependenceTest, ReceivedBytesDoNotDependOnTheSecretPrompt) {
  const RecordedRun a = run_recorded(GetParam(), tiny_weights(), kPromptA, kNewTokens);
  const RecordedRun b = run_recorded(GetParam(), tiny_weights(), kPromptB, kNewTokens);
  EXPECT_NE(a.tokens, b.tokens) << "the prompts should lead to different outputs for a meaningful comparison";
  std::printf("[%s]\n", protocols::to_string(GetParam()).c_str());
  for (int observer : {kModelOwner, kUser}) {
    const net::Bytes bytes_a = payload_bytes(a.received[observer], {"setup"});
    const net::Bytes bytes_b = payload_bytes(b.received[observer], {"setup"});
    ASSERT_EQ(bytes_a.size(), bytes_b.size()) << "traffic volume must depend on public shapes only";
    ASSERT_GE(bytes_a.size(), kMinimumBytes) << "too few bytes for a meaningful test";
    const ChiSquareResult r = chi_square_two_sample(byte_histogram(bytes_a), byte_histogram(bytes_b));
    std::printf("  %-40s prompt A vs B (%zu bytes each): chi2 %.1f (%d dof), p %.3g\n", name_of(observer).c_str(),
                bytes_a.size(), r.statistic, r.degrees_of_freedom, r.p_value);
    EXPECT_GT(r.p_value, kSignificance) << name_of(observer) << " receives differently distributed bytes";
    expect_uniform(bytes_a, name_of(observer) + ", prompt A");
    expect_uniform(bytes_b, name_of(observer) + ", prompt B");
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, MessageIndependenceTest,
                         ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return info.param == Backend::TwoPartyDealer ? "TwoParty" : "ThreeParty"; });

}  // namespace
}  // namespace privacy_test
