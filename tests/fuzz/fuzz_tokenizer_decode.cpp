// Fuzzes Tokenizer::decode on arbitrary id lists (each two input bytes are one signed 16-bit id,
// so both vocabulary ids and out-of-range ids are common). An out-of-range id must be rejected
// with std::out_of_range; in-range ids decode to the concatenation of their token bytes, and if
// that text is valid UTF-8 it must survive encode -> decode.
#include "committed_tokenizer.hpp"
#include "fuzz_check.hpp"
#include "utf8_validator.hpp"

#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

std::vector<int> ids_from_bytes(const std::uint8_t* data, std::size_t size) {
  std::vector<int> ids;
  for (std::size_t i = 0; i + 1 < size; i += 2)
    ids.push_back(static_cast<std::int16_t>(static_cast<std::uint16_t>(data[i] | (data[i + 1] << 8))));
  return ids;
}

// The in-range ids before the first out-of-range one.
std::size_t valid_prefix_length(const std::vector<int>& ids, int vocab_size) {
  std::size_t n = 0;
  while (n < ids.size() && ids[n] >= 0 && ids[n] < vocab_size) ++n;
  return n;
}

void check_decode_of_valid_ids(const model::Tokenizer& tokenizer, std::span<const int> ids) {
  const std::string text = tokenizer.decode(ids);
  std::string concatenated;
  for (int id : ids) concatenated += tokenizer.token_bytes(id);
  fuzz::require_property(text == concatenated, "decode(ids) is the concatenation of the tokens' bytes");
  if (!fuzz::is_valid_utf8(text)) return;
  fuzz::require_property(tokenizer.decode(tokenizer.encode(text)) == text, "decode(encode(decode(ids))) == decode(ids)");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const model::Tokenizer& tokenizer = fuzz::committed_tokenizer();
  const std::vector<int> ids = ids_from_bytes(data, size);
  const std::size_t valid = valid_prefix_length(ids, tokenizer.vocab_size());
  if (valid < ids.size()) {
    bool rejected = false;
    try {
      tokenizer.decode(ids);
    } catch (const std::out_of_range&) {
      rejected = true;
    }
    fuzz::require_property(rejected, "decode rejects an out-of-range id with std::out_of_range");
  }
  check_decode_of_valid_ids(tokenizer, std::span<const int>(ids.data(), valid));
  return 0;
}
