// The GPT-2 pre-tokenisation pattern
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// implemented as a hand-written scanner over UTF-8 code points (no regex library).
//
// Character classes: ASCII is classified exactly. Non-ASCII code points are whitespace if they
// have the Unicode White_Space property; numbers if they are in the common digit/number blocks
// (superscripts, fractions, Arabic-Indic, Devanagari, fullwidth digits, Roman numerals, circled
// numbers); "other" if they are Latin-1 punctuation/symbols, combining marks, general
// punctuation, currency, arrows/math/technical/box/shape/dingbat symbols, CJK punctuation,
// fullwidth punctuation, variation selectors or emoji; every other code point counts as a letter.
// This matches \p{L}/\p{N} for the scripts in practical use; a rare symbol outside those tables
// may be grouped with adjacent letters where the reference regex would split it.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace model {

enum class CharClass { Letter, Number, Whitespace, Other };

CharClass classify(char32_t code_point);

// Decodes UTF-8; throws std::invalid_argument (with the byte offset) on malformed input.
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);

// Splits text into the pieces GPT-2's BPE runs on; concatenating them gives back `text`.
std::vector<std::string> pretokenize(std::string_view text);

}  // namespace model
