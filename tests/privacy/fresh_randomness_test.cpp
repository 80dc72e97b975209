// Seeds and masks are fresh in every session: running the same job twice with identical inputs
// must give received payloads that differ in (almost) every 8-byte word. A reused PRG seed would
// repeat the masked openings of identical inputs word for word. The session seeds themselves
// must all differ.
#include "model/weights.hpp"
#include "mpc/prg.hpp"
#include "tests/privacy/privacy_run.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace privacy_test {
namespace {

using protocols::Backend;

constexpr int kNewTokens = 3;
constexpr int kDealer = 2;
// Full 64-bit masked words collide across sessions with probability 2^-64. The boolean protocols
// send a few masked bits packed into one word (e.g. one opening bit per element of a short
// vector); such a word is uniform over 2^bits values only and repeats with probability 2^-bits.
// Measured: 0 to 3 equal words out of ~3e5 per party (always a single-word frame with a small
// value). Reused seeds would repeat nearly every word, so the bound below separates the two.
constexpr double kMaxEqualFraction = 1e-4;
const std::vector<int> kPrompt{5, 17, 42, 3, 60, 11, 7, 29};

const model::TransformerWeights& tiny_weights() {
  static const model::TransformerWeights weights = model::load_weights(tiny_model_dir());
  return weights;
}

struct WordComparison {
  std::size_t words = 0;
  std::size_t equal = 0;
};

bool in_setup(const ReceivedFrame& frame) { return frame.phase == "setup"; }

// The session seeds are the set-up frames of exactly one seed's size; the other set-up frames
// carry the public description of the job and are equal in both sessions by design.
bool is_seed(const ReceivedFrame& frame) { return in_setup(frame) && frame.payload.size() == sizeof(mpc::Seed); }

// Compares two recordings frame by frame (control flow is public, so the frames line up) and
// counts equal 64-bit words at equal offsets in the frames `selected` picks.
template <typename Selector>
WordComparison compare_words(const std::vector<ReceivedFrame>& a, const std::vector<ReceivedFrame>& b,
                             Selector selected) {
  EXPECT_EQ(a.size(), b.size()) << "the two runs exchanged a different number of frames";
  WordComparison c;
  for (std::size_t f = 0; f < std::min(a.size(), b.size()); ++f) {
    EXPECT_EQ(a[f].payload.size(), b[f].payload.size()) << "frame " << f << " differs in size";
    if (!selected(a[f])) continue;
    const std::size_t n = std::min(a[f].payload.size(), b[f].payload.size()) / sizeof(std::uint64_t);
    for (std::size_t w = 0; w < n; ++w) {
      ++c.words;
      c.equal += std::memcmp(&a[f].payload[w * 8], &b[f].payload[w * 8], 8) == 0;
    }
  }
  return c;
}

class FreshRandomnessTest : public ::testing::TestWithParam<Backend> {};

TEST_P(FreshRandomnessTest, IdenticalInputsGiveDifferentMessagesInEverySession) {
  const RecordedRun first = run_recorded(GetParam(), tiny_weights(), kPrompt, kNewTokens);
  const RecordedRun second = run_recorded(GetParam(), tiny_weights(), kPrompt, kNewTokens);
  EXPECT_EQ(first.tokens, second.tokens) << "identical inputs must give identical outputs";
  const bool two_party = GetParam() == Backend::TwoPartyDealer;
  for (int party = 0; party < kParties; ++party) {
    const auto& a = first.received[party];
    const auto& b = second.received[party];
    const WordComparison seeds = compare_words(a, b, is_seed);
    const WordComparison online = compare_words(a, b, [](const ReceivedFrame& f) { return !in_setup(f); });
    std::printf("[%s] party %d: equal words across the two sessions: %zu of %zu in seeds, %zu of %zu after set-up\n",
                protocols::to_string(GetParam()).c_str(), party, seeds.equal, seeds.words, online.equal, online.words);
    EXPECT_EQ(seeds.equal, 0u) << "party " << party << " received a repeated seed";
    EXPECT_LE(online.equal, kMaxEqualFraction * static_cast<double>(online.words))
        << "party " << party << " received repeated words across sessions";
    if (two_party && party == kDealer) {
      // The dealer only hands out correlated randomness: after the set-up it receives nothing at all.
      EXPECT_EQ(seeds.words + online.words, 0u) << "the 2PC dealer must receive no seed and no share";
      continue;
    }
    EXPECT_GT(seeds.words, 0u) << "party " << party << " should receive a fresh session seed";
    EXPECT_GT(online.words, 1000u) << "party " << party << " received too little for a meaningful check";
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, FreshRandomnessTest,
                         ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return info.param == Backend::TwoPartyDealer ? "TwoParty" : "ThreeParty"; });

}  // namespace
}  // namespace privacy_test
