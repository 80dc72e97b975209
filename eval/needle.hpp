// Needle-in-a-haystack retrieval sized for a small language model. A distinctive sentence (the
// needle) is inserted as its own line at a given depth of a haystack of real text; the prompt ends
// with a new line holding the needle's first words (the cue), and the model must continue with the
// rest of the needle (the answer), which it can only know by looking back at the needle.
#pragma once

#include <span>
#include <string>
#include <vector>

namespace model {
class Tokenizer;
}

namespace eval {

struct Needle {
  std::string cue;     // the needle's first words; the prompt ends with them
  std::string answer;  // the rest of the sentence, starting with a space
};

// Built-in needles: KJV-style wording (so the vocabulary fits a model trained on that text) with
// names and numbers the text never pairs with the cue.
const std::vector<Needle>& builtin_needles();

// The haystack as token lines: each entry is one line of text, newline included, tokenized on its
// own (GPT-2 pre-tokenisation always splits at a newline, so this equals tokenizing the whole text).
using TokenLines = std::vector<std::vector<int>>;

struct NeedleCase {
  int needle = 0;             // index into the needle list
  int length = 0;             // prompt plus expected answer, in tokens
  double depth = 0.0;         // requested fraction of the haystack before the needle
  double actual_depth = 0.0;  // after snapping to a line boundary
  bool with_needle = true;    // false: the control case (cue without the needle in the text)
  std::vector<int> prompt;    // haystack with the needle inserted, then the cue
  std::vector<int> expected;  // the first answer tokens the continuation must reproduce
};

struct NeedleTokens {
  std::vector<int> cue;
  std::vector<int> answer;
  std::vector<int> newline;  // ends the needle line and a truncated haystack line
};

NeedleTokens tokenize_needle(const model::Tokenizer& tokenizer, const Needle& needle);

// Builds one case from the haystack lines starting at `first_line` (wrapping around at the end).
// `length` is the whole sequence: the prompt with the needle plus the expected answer hold exactly
// `length` tokens (the last haystack line is cut short to fit), so a model with `length`
// positions can run it. The needle line goes after the haystack line where `depth` of the
// haystack tokens is reached. The control case (with_needle = false) is the same prompt without the needle line.
// `answer_tokens` caps the expected answer length. Throws std::invalid_argument when the needle
// and cue leave no room for a haystack or the haystack holds no tokens.
NeedleCase make_needle_case(const TokenLines& haystack, std::size_t first_line, const NeedleTokens& needle,
                            int needle_index, int length, double depth, int answer_tokens, bool with_needle);

struct NeedleScore {
  bool exact = false;       // every expected token reproduced
  int matched = 0;          // expected tokens reproduced at their position
  int expected = 0;

  double token_accuracy() const { return expected ? static_cast<double>(matched) / expected : 0.0; }
};

// Compares the greedy continuation with the expected answer, position by position. The
// continuation must hold at least as many tokens as expected (throws std::invalid_argument).
NeedleScore score_needle(std::span<const int> generated, std::span<const int> expected);

}  // namespace eval
