#include "model/pretokenizer.hpp"

#include <algorithm>
#include <stdexcept>

namespace model {
namespace {

struct Range {
  char32_t first, last;
};

template <std::size_t N>
bool in_ranges(char32_t c, const Range (&ranges)[N]) {
  for (const Range& r : ranges)
    if (c >= r.first && c <= r.last) return true;
  return false;
}

constexpr Range kWhitespace[] = {{0x85, 0x85},     {0xA0, 0xA0},     {0x1680, 0x1680}, {0x2000, 0x200A},
                                 {0x2028, 0x2029}, {0x202F, 0x202F}, {0x205F, 0x205F}, {0x3000, 0x3000}};

constexpr Range kNumbers[] = {{0xB2, 0xB3},     {0xB9, 0xB9},     {0xBC, 0xBE},     {0x660, 0x669},   {0x6F0, 0x6F9},
                              {0x966, 0x96F},   {0x2070, 0x2070}, {0x2074, 0x2079}, {0x2080, 0x2089}, {0x2150, 0x2189},
                              {0x2460, 0x249B}, {0x24EA, 0x24FF}, {0x2776, 0x2793}, {0xFF10, 0xFF19}};

constexpr Range kOther[] = {
    {0x80, 0xA9},     {0xAB, 0xB4},     {0xB6, 0xB9},     {0xBB, 0xBF},     {0xD7, 0xD7},    {0xF7, 0xF7},
    {0x2C2, 0x2C5},   {0x2D2, 0x2DF},   {0x300, 0x36F},   {0x37E, 0x37E},   {0x387, 0x387},  {0x55A, 0x55F},
    {0x589, 0x58A},   {0x5BE, 0x5BE},   {0x5C0, 0x5C0},   {0x5F3, 0x5F4},   {0x60C, 0x60D},  {0x61B, 0x61F},
    {0x64B, 0x65F},   {0x66A, 0x66D},   {0x6D4, 0x6D4},   {0x900, 0x903},   {0x93A, 0x94F},  {0x964, 0x965},
    {0x2010, 0x2027}, {0x2030, 0x205E}, {0x200B, 0x200F}, {0x2060, 0x206F}, {0x20A0, 0x20FF}, {0x2100, 0x2101},
    {0x2103, 0x2106}, {0x2108, 0x2109}, {0x2116, 0x2118}, {0x211E, 0x2123}, {0x2125, 0x2125}, {0x2127, 0x2127},
    {0x2129, 0x2129}, {0x212E, 0x212E}, {0x2190, 0x245F}, {0x2500, 0x2775}, {0x2794, 0x2BFF}, {0x2E00, 0x2E7F},
    {0x3001, 0x3004}, {0x3008, 0x3020}, {0x3030, 0x3030}, {0x303D, 0x303F}, {0x30FB, 0x30FB}, {0xFE00, 0xFE0F},
    {0xFE10, 0xFE6F}, {0xFEFF, 0xFEFF}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF20}, {0xFF3B, 0xFF40}, {0xFF5B, 0xFF65},
    {0xFFE0, 0xFFFF}, {0x1F000, 0x1FAFF}, {0xE0000, 0xE007F}};

char32_t ascii_lower(char32_t c) { return c >= U'A' && c <= U'Z' ? c + (U'a' - U'A') : c; }

// "'s|'t|'re|'ve|'m|'ll|'d" at i (with `any_case`, as "(?i:...)"); its length in `length`.
bool is_contraction_at(const std::u32string& s, std::size_t i, bool any_case, std::size_t& length) {
  if (s[i] != U'\'' || i + 1 >= s.size()) return false;
  const auto fold = [any_case](char32_t c) { return any_case ? ascii_lower(c) : c; };
  const char32_t a = fold(s[i + 1]);
  if (a == U's' || a == U't' || a == U'm' || a == U'd') {
    length = 2;
    return true;
  }
  if (i + 2 < s.size()) {
    const char32_t b = fold(s[i + 2]);
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) {
      length = 3;
      return true;
    }
  }
  return false;
}

std::size_t run_end(const std::u32string& s, std::size_t i, CharClass cls) {
  while (i < s.size() && classify(s[i]) == cls) ++i;
  return i;
}

bool is_line_break(char32_t c) { return c == U'\r' || c == U'\n'; }

// "\s+(?!\S)|\s+" for the whitespace run s[i, end): a run followed by non-space gives up its last
// character, which then starts the next piece (as " word" when it is a space).
std::size_t trailing_whitespace_length(const std::u32string& s, std::size_t i, std::size_t end) {
  if (end == s.size() || end - i == 1) return end - i;
  return end - i - 1;
}

// GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
std::size_t gpt2_piece_length(const std::u32string& s, std::size_t i) {
  std::size_t contraction = 0;
  if (is_contraction_at(s, i, false, contraction)) return contraction;
  const CharClass here = classify(s[i]);
  if (s[i] == U' ' && i + 1 < s.size() && classify(s[i + 1]) != CharClass::Whitespace)
    return run_end(s, i + 1, classify(s[i + 1])) - i;
  if (here != CharClass::Whitespace) return run_end(s, i, here) - i;
  return trailing_whitespace_length(s, i, run_end(s, i, CharClass::Whitespace));
}

// LLaMA-3 (max_digits 3) and Qwen2 (max_digits 1):
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}|
//   ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+
// The alternatives are tried in order, as the regex does.
std::size_t digit_group_piece_length(const std::u32string& s, std::size_t i, std::size_t max_digits) {
  std::size_t contraction = 0;
  if (is_contraction_at(s, i, true, contraction)) return contraction;
  const CharClass here = classify(s[i]);
  const bool next_is_letter = i + 1 < s.size() && classify(s[i + 1]) == CharClass::Letter;
  if (here == CharClass::Letter) return run_end(s, i, CharClass::Letter) - i;
  if (here != CharClass::Number && !is_line_break(s[i]) && next_is_letter) return run_end(s, i + 1, CharClass::Letter) - i;
  if (here == CharClass::Number) return std::min(run_end(s, i, CharClass::Number) - i, max_digits);
  const std::size_t symbols_from = s[i] == U' ' && i + 1 < s.size() && classify(s[i + 1]) == CharClass::Other ? i + 1 : i;
  if (classify(s[symbols_from]) == CharClass::Other) {
    std::size_t end = run_end(s, symbols_from, CharClass::Other);
    while (end < s.size() && is_line_break(s[end])) ++end;
    return end - i;
  }
  // Whitespace: up to its last line break when the run holds one ("\s*[\r\n]+"), else as GPT-2.
  const std::size_t end = run_end(s, i, CharClass::Whitespace);
  for (std::size_t k = end; k > i; --k)
    if (is_line_break(s[k - 1])) return k - i;
  return trailing_whitespace_length(s, i, end);
}

std::size_t piece_length(const std::u32string& s, std::size_t i, PretokenizerPattern pattern) {
  switch (pattern) {
    case PretokenizerPattern::gpt2:
      return gpt2_piece_length(s, i);
    case PretokenizerPattern::llama3:
      return digit_group_piece_length(s, i, 3);
    case PretokenizerPattern::qwen2:
      return digit_group_piece_length(s, i, 1);
  }
  throw std::logic_error("unknown pre-tokenizer pattern");
}

}  // namespace

CharClass classify(char32_t c) {
  if (c < 0x80) {
    if ((c >= U'a' && c <= U'z') || (c >= U'A' && c <= U'Z')) return CharClass::Letter;
    if (c >= U'0' && c <= U'9') return CharClass::Number;
    if (c == U' ' || (c >= 0x09 && c <= 0x0D)) return CharClass::Whitespace;
    return CharClass::Other;
  }
  if (in_ranges(c, kWhitespace)) return CharClass::Whitespace;
  if (in_ranges(c, kNumbers)) return CharClass::Number;
  if (in_ranges(c, kOther)) return CharClass::Other;
  return CharClass::Letter;
}

std::u32string decode_utf8(std::string_view text) {
  std::u32string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) {
    const auto lead = static_cast<unsigned char>(text[i]);
    const int length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size())
      throw std::invalid_argument("invalid UTF-8 at byte " + std::to_string(i) + " of the input text");
    char32_t c = length == 1 ? lead : lead & (0x7F >> length);
    for (int k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) throw std::invalid_argument("invalid UTF-8 at byte " + std::to_string(i + k) + " of the input text");
      c = (c << 6) | (next & 0x3F);
    }
    const char32_t minimum[] = {0, 0, 0x80, 0x800, 0x10000};
    if (c < minimum[length] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
      throw std::invalid_argument("invalid UTF-8 (overlong or out of range) at byte " + std::to_string(i) + " of the input text");
    out.push_back(c);
    i += length;
  }
  return out;
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  for (char32_t c : text) {
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

std::vector<std::string> pretokenize(std::string_view text, PretokenizerPattern pattern) {
  const std::u32string s = decode_utf8(text);
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t length = piece_length(s, i, pattern);
    pieces.push_back(encode_utf8(std::u32string_view(s).substr(i, length)));
    i += length;
  }
  return pieces;
}

std::optional<PretokenizerPattern> pattern_of_regex(std::string_view regex) {
  static constexpr std::string_view kGpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+)";
  static constexpr std::string_view kLlama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  static constexpr std::string_view kQwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  if (regex == kGpt2) return PretokenizerPattern::gpt2;
  if (regex == kLlama3) return PretokenizerPattern::llama3;
  if (regex == kQwen2) return PretokenizerPattern::qwen2;
  return std::nullopt;
}

}  // namespace model
