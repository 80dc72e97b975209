#include "net/frame.hpp"

namespace net {

namespace {

template <typename T>
void put_le(std::uint8_t* out, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

template <typename T>
T get_le(const std::uint8_t* in) {
  T value = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) value |= static_cast<T>(in[i]) << (8 * i);
  return value;
}

}  // namespace

EncodedHeader encode_header(const FrameHeader& header) {
  EncodedHeader out{};
  put_le(out.data(), header.magic);
  put_le(out.data() + 4, header.sequence);
  put_le(out.data() + 12, header.length);
  return out;
}

FrameHeader decode_header(const EncodedHeader& bytes) {
  return {get_le<std::uint32_t>(bytes.data()), get_le<std::uint64_t>(bytes.data() + 4),
          get_le<std::uint64_t>(bytes.data() + 12)};
}

SendStamp encode_send_stamp(std::int64_t nanoseconds) {
  SendStamp out{};
  put_le(out.data(), static_cast<std::uint64_t>(nanoseconds));
  return out;
}

std::int64_t decode_send_stamp(const SendStamp& bytes) {
  return static_cast<std::int64_t>(get_le<std::uint64_t>(bytes.data()));
}

}  // namespace net
