#include "eval/needle.hpp"
#include "tiny_model.hpp"

#include <gtest/gtest.h>

namespace {

using eval::NeedleTokens;
using eval::TokenLines;

// Six haystack lines of four tokens plus the newline token 9: line i is 10i+10 .. 10i+13, 9.
TokenLines haystack_lines() {
  TokenLines lines;
  for (int i = 0; i < 6; ++i) lines.push_back({10 * i + 10, 10 * i + 11, 10 * i + 12, 10 * i + 13, 9});
  return lines;
}

const NeedleTokens kNeedle{{1, 2, 3}, {4, 5, 6, 7}, {9}};

std::vector<int> concat(std::initializer_list<std::vector<int>> parts) {
  std::vector<int> out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

TEST(NeedleCase, InsertsTheNeedleAtTheNearestLineBoundaryAndEndsWithTheCue) {
  // Room for the haystack: 43 - 3 (answer) - 8 (needle line) - 3 (cue) = 29 = five whole lines + a
  // cut line.
  const eval::NeedleCase c = eval::make_needle_case(haystack_lines(), 0, kNeedle, 2, 43, 0.5, 3, true);
  const auto& h = haystack_lines();
  const std::vector<int> expected_prompt =
      concat({h[0], h[1], h[2], {1, 2, 3, 4, 5, 6, 7, 9}, h[3], h[4], {60, 61, 62, 9}, {1, 2, 3}});
  EXPECT_EQ(c.prompt, expected_prompt);
  EXPECT_EQ(c.prompt.size(), 40u);
  EXPECT_EQ(c.expected, (std::vector<int>{4, 5, 6}));
  EXPECT_EQ(c.needle, 2);
  EXPECT_DOUBLE_EQ(c.depth, 0.5);
  EXPECT_DOUBLE_EQ(c.actual_depth, 15.0 / 29.0);
}

TEST(NeedleCase, DepthZeroAndOnePutTheNeedleAtTheEnds) {
  const eval::NeedleCase first = eval::make_needle_case(haystack_lines(), 0, kNeedle, 0, 44, 0.0, 4, true);
  EXPECT_EQ(std::vector<int>(first.prompt.begin(), first.prompt.begin() + 8), (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 9}));
  EXPECT_DOUBLE_EQ(first.actual_depth, 0.0);
  const eval::NeedleCase last = eval::make_needle_case(haystack_lines(), 0, kNeedle, 0, 44, 1.0, 4, true);
  EXPECT_EQ(std::vector<int>(last.prompt.end() - 11, last.prompt.end()),
            (std::vector<int>{1, 2, 3, 4, 5, 6, 7, 9, 1, 2, 3}));
  EXPECT_DOUBLE_EQ(last.actual_depth, 1.0);
}

TEST(NeedleCase, ControlIsTheSamePromptWithoutTheNeedle) {
  const eval::NeedleCase with = eval::make_needle_case(haystack_lines(), 0, kNeedle, 0, 44, 0.5, 4, true);
  const eval::NeedleCase control = eval::make_needle_case(haystack_lines(), 0, kNeedle, 0, 44, 0.5, 4, false);
  EXPECT_FALSE(control.with_needle);
  std::vector<int> removed = with.prompt;
  removed.erase(removed.begin() + 15, removed.begin() + 23);
  EXPECT_EQ(control.prompt, removed);
  EXPECT_EQ(control.expected, with.expected);
}

TEST(NeedleCase, HaystackWrapsAroundFromTheFirstLine) {
  const eval::NeedleCase c = eval::make_needle_case(haystack_lines(), 4, kNeedle, 0, 44, 0.0, 4, true);
  EXPECT_EQ(std::vector<int>(c.prompt.begin() + 8, c.prompt.begin() + 18),
            (std::vector<int>{50, 51, 52, 53, 9, 60, 61, 62, 63, 9}));
  EXPECT_EQ(c.prompt[18], 10);  // line 0 follows line 5
}

TEST(NeedleCase, RejectsBadArguments) {
  EXPECT_THROW(eval::make_needle_case(haystack_lines(), 0, kNeedle, 0, 15, 0.5, 4, true), std::invalid_argument);
  EXPECT_THROW(eval::make_needle_case(haystack_lines(), 0, kNeedle, 0, 44, 1.5, 4, true), std::invalid_argument);
  EXPECT_THROW(eval::make_needle_case(haystack_lines(), 0, kNeedle, 0, 44, 0.5, 0, true), std::invalid_argument);
  EXPECT_THROW(eval::make_needle_case({}, 0, kNeedle, 0, 44, 0.5, 4, true), std::invalid_argument);
  EXPECT_THROW(eval::make_needle_case({{}, {}}, 0, kNeedle, 0, 44, 0.5, 4, true), std::invalid_argument);
}

TEST(NeedleScore, CountsPositionWiseMatches) {
  const std::vector<int> expected = {4, 5, 6};
  const eval::NeedleScore exact = eval::score_needle(std::vector<int>{4, 5, 6, 8}, expected);
  EXPECT_TRUE(exact.exact);
  EXPECT_EQ(exact.matched, 3);
  EXPECT_DOUBLE_EQ(exact.token_accuracy(), 1.0);
  const eval::NeedleScore partial = eval::score_needle(std::vector<int>{4, 0, 6}, expected);
  EXPECT_FALSE(partial.exact);
  EXPECT_EQ(partial.matched, 2);
  EXPECT_DOUBLE_EQ(partial.token_accuracy(), 2.0 / 3.0);
  EXPECT_THROW(eval::score_needle(std::vector<int>{4, 5}, expected), std::invalid_argument);
}

TEST(BuiltinNeedles, CueAndAnswerTokensJoinIntoTheSentenceTokens) {
  const model::Tokenizer tokenizer = eval_test::kjv_tokenizer();
  for (const auto& needle : eval::builtin_needles()) {
    SCOPED_TRACE(needle.cue);
    const NeedleTokens tokens = eval::tokenize_needle(tokenizer, needle);
    std::vector<int> joined = tokens.cue;
    joined.insert(joined.end(), tokens.answer.begin(), tokens.answer.end());
    EXPECT_EQ(joined, tokenizer.encode(needle.cue + needle.answer));
    EXPECT_GE(tokens.answer.size(), 6u);  // the default answer length fits every needle
  }
}

}  // namespace
