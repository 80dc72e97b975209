// Distributed comparison functions: the two evaluations add up to beta exactly below alpha, on
// every input of small domains and on the edges of large ones, and one party's outputs alone look
// uniform.
#include "protocols/fss/dcf.hpp"

#include <gtest/gtest.h>

#include <random>

using protocols::fss::Block;
using protocols::fss::dcf_evaluate;
using protocols::fss::dcf_generate;
using protocols::fss::FixedKeyAes;
using protocols::fss::u64;

namespace {

Block random_block(std::mt19937_64& gen) { return {gen(), gen()}; }

u64 low_mask(int bits) { return bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1; }

// f(x) for every key and input pair, reconstructed from both parties' evaluations.
std::vector<u64> reconstruct(FixedKeyAes& aes, int bits, const std::vector<u64>& alpha, const std::vector<u64>& beta,
                             const std::vector<u64>& x, std::mt19937_64& gen) {
  std::vector<Block> root0, root1;
  for (std::size_t i = 0; i < alpha.size(); ++i) root0.push_back(random_block(gen)), root1.push_back(random_block(gen));
  const auto keys = dcf_generate(aes, bits, alpha, beta, root0, root1);
  EXPECT_EQ(keys.seed.size(), alpha.size() * bits);
  const auto y0 = dcf_evaluate(aes, 0, root0, keys, x), y1 = dcf_evaluate(aes, 1, root1, keys, x);
  std::vector<u64> sum;
  for (std::size_t i = 0; i < x.size(); ++i) sum.push_back(y0[i] + y1[i]);
  return sum;
}

}  // namespace

TEST(Dcf, EveryInputOfASmallDomainGetsBetaExactlyBelowAlpha) {
  FixedKeyAes aes;
  std::mt19937_64 gen(1);
  for (int bits : {1, 2, 5, 7}) {
    const u64 domain = u64{1} << bits;
    std::vector<u64> alpha, beta, x;
    for (u64 a = 0; a < domain; ++a)
      for (u64 v = 0; v < domain; ++v) {
        alpha.push_back(a);
        beta.push_back(a % 2 ? u64{0} - 1 : 12345 + a);
        x.push_back(v);
      }
    const auto f = reconstruct(aes, bits, alpha, beta, x, gen);
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(f[i], x[i] < alpha[i] ? beta[i] : 0u) << "bits " << bits << ", alpha " << alpha[i] << ", x " << x[i];
  }
}

TEST(Dcf, WideDomainsAreExactAtTheEdgesAndOnRandomInputs) {
  FixedKeyAes aes;
  std::mt19937_64 gen(2);
  for (int bits : {31, 47, 63, 64}) {
    std::vector<u64> alpha, beta, x;
    auto add = [&](u64 a, u64 v) {
      alpha.push_back(a & low_mask(bits));
      beta.push_back(gen());
      x.push_back(v & low_mask(bits));
    };
    for (int i = 0; i < 200; ++i) {
      const u64 a = gen() & low_mask(bits);
      for (u64 v : {a - 1, a, a + 1, u64{0}, low_mask(bits), gen()}) add(a, v);
    }
    add(0, 0);
    add(0, low_mask(bits));
    add(low_mask(bits), low_mask(bits) - 1);
    add(low_mask(bits), low_mask(bits));
    const auto f = reconstruct(aes, bits, alpha, beta, x, gen);
    for (std::size_t i = 0; i < x.size(); ++i)
      ASSERT_EQ(f[i], x[i] < alpha[i] ? beta[i] : 0u) << "bits " << bits << ", alpha " << alpha[i] << ", x " << x[i];
  }
}

TEST(Dcf, OnePartysSharesLookUniformNotLikeTheResult) {
  // A single evaluation is a pseudorandom ring element: over many keys with beta = 1 its low bit is
  // 1 about half the time whether or not x < alpha.
  FixedKeyAes aes;
  std::mt19937_64 gen(3);
  const int n = 4000;
  std::vector<u64> alpha(n, 1000), beta(n, 1), x(n);
  std::vector<Block> root0, root1;
  for (int i = 0; i < n; ++i) x[i] = i % 2 ? 10 : 2000, root0.push_back(random_block(gen)), root1.push_back(random_block(gen));
  const auto keys = dcf_generate(aes, 16, alpha, beta, root0, root1);
  const auto y0 = dcf_evaluate(aes, 0, root0, keys, x);
  int ones_below = 0, ones_above = 0;
  for (int i = 0; i < n; ++i) (i % 2 ? ones_below : ones_above) += static_cast<int>(y0[i] & 1);
  EXPECT_NEAR(ones_below, n / 4, n / 20);
  EXPECT_NEAR(ones_above, n / 4, n / 20);
}

TEST(Dcf, CorrectionWordsTakeTwentyFourBytesPerLevel) {
  EXPECT_EQ(protocols::fss::DcfCorrections::bytes_per_key(63), 24u * 63 + 8);
  EXPECT_EQ(protocols::fss::DcfCorrections::bytes_per_key(63, 2), 32u * 63 + 16);
}

// Payloads of two to four words: every word exact below alpha and 0 elsewhere, alpha's edges
// included; words 3 and 4 come from the second value block.
TEST(Dcf, WidePayloadsAreExactInEveryWordBelowAlpha) {
  FixedKeyAes aes;
  std::mt19937_64 gen(4);
  for (std::size_t width : {2, 3, 4}) {
    for (int bits : {1, 6, 40, 63}) {
      const u64 mask = low_mask(bits);
      std::vector<u64> alpha, beta, x;
      std::vector<Block> root0, root1;
      for (int i = 0; i < 300; ++i) {
        const u64 a = i < 64 && bits <= 6 ? static_cast<u64>(i) & mask : gen() & mask;
        alpha.push_back(a);
        for (std::size_t w = 0; w < width; ++w) beta.push_back(gen());
        x.push_back(i % 3 == 0 ? a : i % 3 == 1 ? (a - 1) & mask : gen() & mask);
        root0.push_back(random_block(gen)), root1.push_back(random_block(gen));
      }
      const auto keys = dcf_generate(aes, bits, alpha, beta, root0, root1, static_cast<int>(width));
      const auto y0 = dcf_evaluate(aes, 0, root0, keys, x), y1 = dcf_evaluate(aes, 1, root1, keys, x);
      ASSERT_EQ(y0.size(), width * x.size());
      for (std::size_t i = 0; i < x.size(); ++i)
        for (std::size_t w = 0; w < width; ++w)
          ASSERT_EQ(y0[width * i + w] + y1[width * i + w], x[i] < alpha[i] ? beta[width * i + w] : 0u)
              << "width " << width << " bits " << bits << " key " << i << " word " << w;
    }
  }
  EXPECT_EQ(protocols::fss::DcfCorrections::bytes_per_key(63, 3), 40u * 63 + 24);
}
