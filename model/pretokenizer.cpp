#include "model/pretokenizer.hpp"

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

bool is_contraction_at(const std::u32string& s, std::size_t i, std::size_t& length) {
  if (s[i] != U'\'' || i + 1 >= s.size()) return false;
  const char32_t a = s[i + 1];
  if (a == U's' || a == U't' || a == U'm' || a == U'd') {
    length = 2;
    return true;
  }
  if (i + 2 < s.size()) {
    const char32_t b = s[i + 2];
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

// Length of the piece starting at i.
std::size_t piece_length(const std::u32string& s, std::size_t i) {
  std::size_t contraction = 0;
  if (is_contraction_at(s, i, contraction)) return contraction;
  const CharClass here = classify(s[i]);
  // " ?\p{L}+", " ?\p{N}+", " ?[^\s\p{L}\p{N}]+": an optional single space, then a run of one class.
  if (s[i] == U' ' && i + 1 < s.size() && classify(s[i + 1]) != CharClass::Whitespace)
    return run_end(s, i + 1, classify(s[i + 1])) - i;
  if (here != CharClass::Whitespace) return run_end(s, i, here) - i;
  // "\s+(?!\S)|\s+": a whitespace run followed by non-space gives up its last character, which
  // then starts the next piece (as " word" when it is a space).
  const std::size_t end = run_end(s, i, CharClass::Whitespace);
  if (end == s.size() || end - i == 1) return end - i;
  return end - i - 1;
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

std::vector<std::string> pretokenize(std::string_view text) {
  const std::u32string s = decode_utf8(text);
  std::vector<std::string> pieces;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t length = piece_length(s, i);
    pieces.push_back(encode_utf8(std::u32string_view(s).substr(i, length)));
    i += length;
  }
  return pieces;
}

}  // namespace model
