// Network link profiles and the in-process link emulator's model of one link direction.
//
// Kernel netem is not available on the machines this project runs on, so links are shaped inside
// the channel layer: the receiver of a frame holds it until the moment a real link would have
// delivered it. Each direction of each party-to-party link is modelled as a pipe of a fixed rate
// followed by a fixed one-way latency:
//   departure = max(time the sender handed the frame to the link, end of the previous frame's departure)
//   delivery  = departure + wire_bytes / rate + rtt / 2
// where wire_bytes is what TLS puts on the wire for the frame: payload + 20-byte frame header +
// 22 bytes of TLS 1.3 record overhead (5-byte header, content type, 16-byte AES-GCM tag) per
// 16 KiB record. TCP/IP headers, slow start and loss are not modelled.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace net {

struct LinkProfile {
  std::string name = "loopback";   // loopback, lan, wan, or RATE/RTT for a custom link ("1gbit/2ms")
  double rate_bits_per_second = 0;  // 0: unlimited
  double rtt_seconds = 0;

  bool shaped() const { return rate_bits_per_second > 0 || rtt_seconds > 0; }
  double one_way_seconds() const { return rtt_seconds / 2; }
  // Seconds the link needs to carry this many wire bytes (0 when the rate is unlimited).
  double transfer_seconds(double wire_bytes) const;
  // The analytic cost of a computation on this link: its compute time, plus one one-way latency
  // per round (in a round every party sends and receives at once, so a round costs RTT/2 of
  // waiting), plus the wire bytes of the busiest link direction over the rate. See README.
  double projected_seconds(double compute_seconds, double rounds, double busiest_direction_wire_bytes) const {
    return compute_seconds + rounds * one_way_seconds() + transfer_seconds(busiest_direction_wire_bytes);
  }
  // "wan (400 Mbit/s, 40 ms RTT)", or "loopback (no shaping)".
  std::string describe() const;
  // The link as numbers, which parties compare in their hello ("4e+08 bit/s 0.04 s").
  std::string canonical() const;
};

// "loopback", "lan" (3 Gbit/s, 0.3 ms RTT), "wan" (400 Mbit/s, 40 ms RTT), or "RATE,RTT" such as
// "1gbit,2ms" (rate units bit, kbit, mbit, gbit; RTT units us, ms, s). Throws std::invalid_argument.
LinkProfile parse_link_profile(const std::string& text);

// Bytes on the wire for a frame carrying this many header + payload bytes.
std::uint64_t wire_bytes_of_frame(std::uint64_t frame_bytes);

// The receiving side's model of one incoming link direction (see the file comment).
class LinkDirectionModel {
 public:
  using Clock = std::chrono::system_clock;

  explicit LinkDirectionModel(const LinkProfile& profile) : profile_(profile) {}

  // When a frame of `frame_bytes` handed to the link at `sent` (sender's clock) is delivered.
  Clock::time_point delivery(Clock::time_point sent, std::uint64_t frame_bytes);

 private:
  LinkProfile profile_;
  Clock::time_point busy_until_{};
};

}  // namespace net
