// Distributed point functions evaluated on their whole domain: the two parties' outputs add up to
// beta exactly at alpha and to 0 everywhere else, for every alpha of small domains and for random
// ones of wide domains; one party's outputs alone look uniform; bad arguments are refused.
#include "protocols/fss/dpf.hpp"

#include <gtest/gtest.h>

#include <random>
#include <stdexcept>

using protocols::fss::Block;
using protocols::fss::dpf_evaluate_domain;
using protocols::fss::dpf_generate;
using protocols::fss::DpfCorrections;
using protocols::fss::FixedKeyAes;
using protocols::fss::u64;

namespace {

Block random_block(std::mt19937_64& gen) { return {gen(), gen()}; }

struct Keys {
  std::vector<Block> root0, root1;
  DpfCorrections corrections;
};

Keys make_keys(FixedKeyAes& aes, int bits, const std::vector<u64>& alpha, const std::vector<u64>& beta, std::mt19937_64& gen) {
  Keys k;
  for (std::size_t i = 0; i < alpha.size(); ++i) k.root0.push_back(random_block(gen)), k.root1.push_back(random_block(gen));
  k.corrections = dpf_generate(aes, bits, alpha, beta, k.root0, k.root1);
  return k;
}

// Checks f_k(z) = beta_k [z == alpha_k] on the whole domain, evaluating the keys in two ranges.
void expect_point_functions(FixedKeyAes& aes, int bits, const std::vector<u64>& alpha, const std::vector<u64>& beta,
                            std::mt19937_64& gen) {
  const Keys k = make_keys(aes, bits, alpha, beta, gen);
  const std::size_t n = alpha.size(), half = n / 2, domain = std::size_t{1} << bits;
  for (const auto& [first, count] : {std::pair{std::size_t{0}, half}, std::pair{half, n - half}}) {
    const auto y0 = dpf_evaluate_domain(aes, 0, k.root0, k.corrections, first, count);
    const auto y1 = dpf_evaluate_domain(aes, 1, k.root1, k.corrections, first, count);
    ASSERT_EQ(y0.size(), count * domain);
    for (std::size_t key = 0; key < count; ++key)
      for (std::size_t z = 0; z < domain; ++z) {
        const std::size_t at = key * domain + z, i = first + key;
        ASSERT_EQ(y0[at] + y1[at], z == alpha[i] ? beta[i] : 0u) << "bits " << bits << ", alpha " << alpha[i] << ", z " << z;
      }
  }
}

}  // namespace

TEST(Dpf, EveryPointOfSmallDomainsGetsBetaAndNothingElse) {
  FixedKeyAes aes;
  std::mt19937_64 gen(1);
  for (int bits = 1; bits <= 7; ++bits) {
    std::vector<u64> alpha, beta;
    for (u64 a = 0; a < (u64{1} << bits); ++a) alpha.push_back(a), beta.push_back(a % 3 == 0 ? u64{0} - 1 : 1 + 977 * a);
    expect_point_functions(aes, bits, alpha, beta, gen);
  }
}

TEST(Dpf, WideDomainsAreExactAtTheEdgesAndOnRandomPoints) {
  FixedKeyAes aes;
  std::mt19937_64 gen(2);
  for (int bits : {12, 16, protocols::fss::kMaxDpfBits}) {
    const u64 top = (u64{1} << bits) - 1;
    std::vector<u64> alpha = {0, 1, top - 1, top}, beta;
    for (int i = 0; i < (bits > 16 ? 2 : 12); ++i) alpha.push_back(gen() & top);
    for (std::size_t i = 0; i < alpha.size(); ++i) beta.push_back(gen());
    expect_point_functions(aes, bits, alpha, beta, gen);
  }
}

TEST(Dpf, OnePartysOutputsLookUniformEvenAtThePoint) {
  // Over many keys with beta = 1, the low bit of party 0's output at the point and away from it is
  // 1 about half the time.
  FixedKeyAes aes;
  std::mt19937_64 gen(3);
  const int n = 4000, bits = 6;
  std::vector<u64> alpha(n), beta(n, 1);
  for (int i = 0; i < n; ++i) alpha[i] = gen() & 63;
  const Keys k = make_keys(aes, bits, alpha, beta, gen);
  const auto y0 = dpf_evaluate_domain(aes, 0, k.root0, k.corrections, 0, n);
  int at_point = 0, elsewhere = 0;
  for (int i = 0; i < n; ++i) {
    at_point += static_cast<int>(y0[i * 64 + alpha[i]] & 1);
    elsewhere += static_cast<int>(y0[i * 64 + ((alpha[i] + 17) & 63)] & 1);
  }
  EXPECT_NEAR(at_point, n / 2, n / 10);
  EXPECT_NEAR(elsewhere, n / 2, n / 10);
}

TEST(Dpf, RefusesBadArguments) {
  FixedKeyAes aes;
  std::mt19937_64 gen(4);
  const std::vector<Block> roots = {random_block(gen)};
  EXPECT_THROW(dpf_generate(aes, 0, std::vector<u64>{0}, std::vector<u64>{1}, roots, roots), std::invalid_argument);
  EXPECT_THROW(dpf_generate(aes, protocols::fss::kMaxDpfBits + 1, std::vector<u64>{0}, std::vector<u64>{1}, roots, roots),
               std::invalid_argument);
  EXPECT_THROW(dpf_generate(aes, 4, std::vector<u64>{16}, std::vector<u64>{1}, roots, roots), std::invalid_argument);
  const auto keys = dpf_generate(aes, 4, std::vector<u64>{3}, std::vector<u64>{1}, roots, roots);
  EXPECT_THROW(dpf_evaluate_domain(aes, 2, roots, keys, 0, 1), std::invalid_argument);
  EXPECT_THROW(dpf_evaluate_domain(aes, 0, roots, keys, 1, 1), std::invalid_argument);
}

TEST(Dpf, CorrectionWordsTakeSixteenBytesPerInputBit) {
  EXPECT_EQ(DpfCorrections::bytes_per_key(9), 144u);
  std::mt19937_64 gen(5);
  FixedKeyAes aes;
  const std::vector<Block> roots = {random_block(gen)};
  const auto keys = dpf_generate(aes, 9, std::vector<u64>{100}, std::vector<u64>{1}, roots, roots);
  EXPECT_EQ(16 * (keys.seed.size() + keys.final.size()), DpfCorrections::bytes_per_key(9));
}
