// The pre-tokenisation patterns of byte-level BPE tokenizers, each a hand-written scanner over
// UTF-8 code points that follows its regex's alternatives in order (no regex library):
//   gpt2:   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//   llama3: (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//           \s*[\r\n]+|\s+(?!\S)|\s+   (LLaMA-3, also OpenAI's cl100k)
//   qwen2:  the same with \p{N} (one digit per piece)
// Other patterns of Hugging Face tokenizer.json files are refused by name (pattern_of_regex).
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

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace model {

enum class CharClass { Letter, Number, Whitespace, Other };

CharClass classify(char32_t code_point);

// Decodes UTF-8; throws std::invalid_argument (with the byte offset) on malformed input.
std::u32string decode_utf8(std::string_view text);
std::string encode_utf8(std::u32string_view text);

enum class PretokenizerPattern { gpt2, llama3, qwen2 };

// Splits text into the pieces the BPE runs on; concatenating them gives back `text`.
std::vector<std::string> pretokenize(std::string_view text, PretokenizerPattern pattern = PretokenizerPattern::gpt2);

// The pattern whose regex (as written in a tokenizer.json Split pre-tokenizer) is `regex`, if any.
std::optional<PretokenizerPattern> pattern_of_regex(std::string_view regex);

}  // namespace model
