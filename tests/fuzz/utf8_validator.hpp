// A strict UTF-8 check (RFC 3629: shortest form, no surrogates, at most U+10FFFF), written
// independently of the tokenizer so that fuzz targets can use it as an oracle.
#pragma once

#include <cstddef>
#include <string_view>

namespace fuzz {

inline bool is_valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    const auto lead = static_cast<unsigned char>(text[i]);
    std::size_t length = 0;
    char32_t code_point = 0;
    char32_t smallest = 0;
    if (lead < 0x80) { length = 1; code_point = lead; }
    else if ((lead & 0xE0) == 0xC0) { length = 2; code_point = lead & 0x1F; smallest = 0x80; }
    else if ((lead & 0xF0) == 0xE0) { length = 3; code_point = lead & 0x0F; smallest = 0x800; }
    else if ((lead & 0xF8) == 0xF0) { length = 4; code_point = lead & 0x07; smallest = 0x10000; }
    else return false;
    if (i + length > text.size()) return false;
    for (std::size_t k = 1; k < length; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    if (code_point < smallest || code_point > 0x10FFFF || (code_point >= 0xD800 && code_point <= 0xDFFF)) return false;
    i += length;
  }
  return true;
}

}  // namespace fuzz
