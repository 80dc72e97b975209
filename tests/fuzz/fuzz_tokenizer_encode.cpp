// Fuzzes Tokenizer::encode on arbitrary bytes with the committed GPT-2 vocabulary. Valid UTF-8
// must encode to in-range ids that decode back to exactly the input; malformed UTF-8 (including
// overlong forms, surrogates and code points above U+10FFFF) must be rejected with
// std::invalid_argument.
#include "committed_tokenizer.hpp"
#include "fuzz_check.hpp"
#include "utf8_validator.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const model::Tokenizer& tokenizer = fuzz::committed_tokenizer();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const bool valid = fuzz::is_valid_utf8(text);
  std::vector<int> ids;
  try {
    ids = tokenizer.encode(text);
  } catch (const std::invalid_argument&) {
    fuzz::require_property(!valid, "encode accepts every valid UTF-8 text");
    return 0;
  }
  fuzz::require_property(valid, "encode rejects malformed UTF-8");
  for (int id : ids) fuzz::require_property(id >= 0 && id < tokenizer.vocab_size(), "encode returns vocabulary ids");
  fuzz::require_property(tokenizer.decode(ids) == text, "decode(encode(text)) == text");
  fuzz::require_property(ids.size() <= text.size(), "encode returns at most one id per byte");
  return 0;
}
