// Fuzzes the Hugging Face tokenizer.json reader (hf_tokenizer_from_json): any input must either be
// refused with std::invalid_argument or give a tokenizer whose ids decode back to the text they
// encode, for a fixed ASCII text and for the input's own first line.
#include "fuzz_check.hpp"
#include "model/hf_tokenizer_json.hpp"
#include "model/tokenizer.hpp"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace {

void check_round_trip(const model::Tokenizer& tokenizer, const std::string& text) {
  std::vector<int> ids;
  try {
    ids = tokenizer.encode(text);
  } catch (const std::invalid_argument&) {
    return;  // malformed UTF-8, or non-ASCII text under NFC: refused, as documented
  }
  fuzz::require_property(tokenizer.decode(ids) == text, "decode(encode(text)) == text");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string input(reinterpret_cast<const char*>(data), size);
  std::shared_ptr<const model::TokenizerModel> parsed;
  try {
    parsed = model::hf_tokenizer_from_json(input, "", "fuzz tokenizer.json");
  } catch (const std::invalid_argument&) {
    return 0;  // refused with a message: fine
  }
  const model::Tokenizer tokenizer(parsed);
  check_round_trip(tokenizer, "In the beginning, 12345 words'll do.\n");
  check_round_trip(tokenizer, input.substr(0, input.find('\n')));
  return 0;
}
