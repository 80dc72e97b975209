#include "eval/needle.hpp"

#include "model/tokenizer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace eval {

const std::vector<Needle>& builtin_needles() {
  static const std::vector<Needle> needles = {
      {"And the name of the keeper of the seventh gate was", " Abinadab the son of Hushai the Archite."},
      {"And the silver cup was hid in the sack of", " Jediael the Gileadite, in the city of Tirzah."},
      {"And the number of the sheep of Zimran was", " seven thousand and four hundred and twelve."},
      {"And the secret word of the watchmen was", " Pelatiah, and the sign was a green fig tree."},
  };
  return needles;
}

NeedleTokens tokenize_needle(const model::Tokenizer& tokenizer, const Needle& needle) {
  NeedleTokens tokens{tokenizer.encode(needle.cue), tokenizer.encode(needle.answer), tokenizer.encode("\n")};
  if (tokens.cue.empty() || tokens.answer.empty()) throw std::invalid_argument("a needle needs a cue and an answer");
  return tokens;
}

namespace {

// Haystack lines in order from `first_line`, wrapping around, filling exactly `room` tokens; the
// last line is cut short (and given a newline) when it does not fit whole.
TokenLines take_haystack(const TokenLines& lines, std::size_t first_line, int room, const std::vector<int>& newline) {
  long long available = 0;
  for (const auto& line : lines) available += static_cast<long long>(line.size());
  if (available == 0) throw std::invalid_argument("the haystack text holds no tokens");
  TokenLines taken;
  int used = 0;
  for (std::size_t i = first_line; used < room; ++i) {
    const std::vector<int>& line = lines[i % lines.size()];
    if (line.empty()) continue;
    const int size = static_cast<int>(line.size());
    if (used + size <= room) {
      taken.push_back(line);
      used += size;
      continue;
    }
    const int keep = room - used - static_cast<int>(newline.size());
    if (keep > 0) {
      std::vector<int> cut(line.begin(), line.begin() + keep);
      cut.insert(cut.end(), newline.begin(), newline.end());
      taken.push_back(std::move(cut));
      used += static_cast<int>(taken.back().size());
    }
    break;
  }
  return taken;
}

// Index of the line boundary whose preceding token count is closest to `target`.
std::size_t boundary_near(const TokenLines& lines, double target, int& tokens_before) {
  std::size_t best = 0;
  int before = 0;
  tokens_before = 0;
  double best_distance = target;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    before += static_cast<int>(lines[i].size());
    if (std::abs(before - target) < best_distance) {
      best_distance = std::abs(before - target);
      best = i + 1;
      tokens_before = before;
    }
  }
  return best;
}

}  // namespace

NeedleCase make_needle_case(const TokenLines& haystack, std::size_t first_line, const NeedleTokens& needle,
                            int needle_index, int length, double depth, int answer_tokens, bool with_needle) {
  if (haystack.empty()) throw std::invalid_argument("the haystack text holds no lines");
  if (!(depth >= 0.0 && depth <= 1.0)) throw std::invalid_argument("needle depth must be in [0, 1]");
  if (answer_tokens < 1) throw std::invalid_argument("a needle case needs at least one answer token");
  const int needle_line = static_cast<int>(needle.cue.size() + needle.answer.size() + needle.newline.size());
  const int expected = std::min(answer_tokens, static_cast<int>(needle.answer.size()));
  const int room = length - expected - needle_line - static_cast<int>(needle.cue.size());
  if (room < 1)
    throw std::invalid_argument("a needle case of " + std::to_string(length) + " tokens leaves no room for a haystack (needle " +
                                std::to_string(needle_line) + " tokens, cue " + std::to_string(needle.cue.size()) +
                                ", answer " + std::to_string(expected) + ")");
  const TokenLines lines = take_haystack(haystack, first_line, room, needle.newline);
  int haystack_tokens = 0;
  for (const auto& line : lines) haystack_tokens += static_cast<int>(line.size());
  int tokens_before = 0;
  const std::size_t insert_at = boundary_near(lines, depth * haystack_tokens, tokens_before);

  NeedleCase c{needle_index, length, depth, haystack_tokens ? static_cast<double>(tokens_before) / haystack_tokens : 0.0,
               with_needle, {}, {}};
  for (std::size_t i = 0; i <= lines.size(); ++i) {
    if (i == insert_at && with_needle) {
      c.prompt.insert(c.prompt.end(), needle.cue.begin(), needle.cue.end());
      c.prompt.insert(c.prompt.end(), needle.answer.begin(), needle.answer.end());
      c.prompt.insert(c.prompt.end(), needle.newline.begin(), needle.newline.end());
    }
    if (i < lines.size()) c.prompt.insert(c.prompt.end(), lines[i].begin(), lines[i].end());
  }
  c.prompt.insert(c.prompt.end(), needle.cue.begin(), needle.cue.end());
  c.expected.assign(needle.answer.begin(), needle.answer.begin() + expected);
  return c;
}

NeedleScore score_needle(std::span<const int> generated, std::span<const int> expected) {
  if (generated.size() < expected.size())
    throw std::invalid_argument("the continuation holds " + std::to_string(generated.size()) + " tokens, " +
                                std::to_string(expected.size()) + " expected");
  NeedleScore score;
  score.expected = static_cast<int>(expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) score.matched += generated[i] == expected[i] ? 1 : 0;
  score.exact = score.matched == score.expected;
  return score;
}

}  // namespace eval
