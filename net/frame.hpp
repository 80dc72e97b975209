// The frame format on every party-to-party channel (inside TLS):
//   magic u32 | sequence u64 | payload length u64   (little-endian, 20 bytes) | payload
// Sequence numbers count frames per direction from 0 (the hello frame), so a replayed, dropped
// or reordered frame is detected even though TLS already protects the byte stream.
// Between frames a sender may put a keep-alive beat: a header with kKeepAliveMagic, length 0 and,
// in place of a sequence number, the age in milliseconds of the sender's latest progress
// (progress_clock.hpp). A beat takes no sequence number and never carries a send stamp.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace net {

inline constexpr std::uint32_t kFrameMagic = 0x4650434dU;  // "MCPF" read as little-endian bytes
inline constexpr std::uint32_t kKeepAliveMagic = 0x4b50434dU;  // "MCPK"
inline constexpr std::size_t kFrameHeaderBytes = 20;

struct FrameHeader {
  std::uint32_t magic = kFrameMagic;
  std::uint64_t sequence = 0;
  std::uint64_t length = 0;
};

using EncodedHeader = std::array<std::uint8_t, kFrameHeaderBytes>;

// On a shaped link (link_profile.hpp) the header is followed by the sender's wall-clock time of
// sending, nanoseconds since the Unix epoch (i64, little-endian), which the receiver's link model
// needs. It is not part of the payload and not counted as traffic.
inline constexpr std::size_t kSendStampBytes = 8;
using SendStamp = std::array<std::uint8_t, kSendStampBytes>;
SendStamp encode_send_stamp(std::int64_t nanoseconds);
std::int64_t decode_send_stamp(const SendStamp& bytes);

EncodedHeader encode_header(const FrameHeader& header);
FrameHeader decode_header(const EncodedHeader& bytes);

inline bool is_beat(const FrameHeader& header) { return header.magic == kKeepAliveMagic; }
inline EncodedHeader encode_beat(std::uint64_t progress_age_ms) {
  return encode_header({kKeepAliveMagic, progress_age_ms, 0});
}

}  // namespace net
