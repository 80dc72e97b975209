// Fuzzes the frame header codec (net/frame.hpp): every 20-byte string decodes to a header that
// encodes back to the same bytes, the fields are the little-endian values at their offsets, and
// every header survives encode -> decode unchanged.
#include "fuzz_check.hpp"
#include "net/frame.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace {

// Independent of the codec under test: most significant byte first.
std::uint64_t read_le(const std::uint8_t* bytes, std::size_t count) {
  std::uint64_t value = 0;
  for (std::size_t i = count; i-- > 0;) value = (value << 8) | bytes[i];
  return value;
}

void check_decode(const std::uint8_t* data) {
  net::EncodedHeader bytes{};
  std::copy_n(data, net::kFrameHeaderBytes, bytes.begin());
  const net::FrameHeader header = net::decode_header(bytes);
  fuzz::require_property(header.magic == read_le(data, 4), "magic is the u32 at offset 0");
  fuzz::require_property(header.sequence == read_le(data + 4, 8), "sequence is the u64 at offset 4");
  fuzz::require_property(header.length == read_le(data + 12, 8), "length is the u64 at offset 12");
  fuzz::require_property(net::encode_header(header) == bytes, "encode(decode(bytes)) == bytes");
}

void check_encode(const std::uint8_t* data) {
  const net::FrameHeader header{static_cast<std::uint32_t>(read_le(data, 4)), read_le(data + 4, 8),
                                read_le(data + 12, 8)};
  const net::FrameHeader back = net::decode_header(net::encode_header(header));
  fuzz::require_property(back.magic == header.magic && back.sequence == header.sequence && back.length == header.length,
                         "decode(encode(header)) == header");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // A stream of headers, as a receiver would read them back to back.
  for (std::size_t offset = 0; offset + net::kFrameHeaderBytes <= size; offset += net::kFrameHeaderBytes) {
    check_decode(data + offset);
    check_encode(data + offset);
  }
  return 0;
}
