// Link profiles: parsing, wire-byte accounting and the link direction model (hand-computed cases).
#include "net/link_profile.hpp"

#include <gtest/gtest.h>

using net::LinkDirectionModel;
using net::LinkProfile;
using net::parse_link_profile;

namespace {

double seconds_between(LinkDirectionModel::Clock::time_point a, LinkDirectionModel::Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

}  // namespace

TEST(LinkProfile, NamedProfilesAreTheStandardLinks) {
  const LinkProfile lan = parse_link_profile("lan"), wan = parse_link_profile("wan");
  EXPECT_DOUBLE_EQ(lan.rate_bits_per_second, 3e9);
  EXPECT_DOUBLE_EQ(lan.rtt_seconds, 0.3e-3);
  EXPECT_DOUBLE_EQ(wan.rate_bits_per_second, 400e6);
  EXPECT_DOUBLE_EQ(wan.rtt_seconds, 40e-3);
  EXPECT_FALSE(parse_link_profile("loopback").shaped());
  EXPECT_TRUE(wan.shaped());
  EXPECT_EQ(wan.describe(), "wan (400 Mbit/s, 40 ms RTT)");
  EXPECT_EQ(lan.describe(), "lan (3 Gbit/s, 0.3 ms RTT)");
  EXPECT_EQ(parse_link_profile("loopback").describe(), "loopback (no shaping)");
}

TEST(LinkProfile, CustomProfilesTakeRateAndRoundTripWithUnits) {
  const LinkProfile p = parse_link_profile("1gbit,2ms");
  EXPECT_EQ(p.name, "1gbit/2ms");
  EXPECT_DOUBLE_EQ(p.rate_bits_per_second, 1e9);
  EXPECT_DOUBLE_EQ(p.rtt_seconds, 2e-3);
  EXPECT_DOUBLE_EQ(parse_link_profile("250kbit,500us").rate_bits_per_second, 250e3);
  EXPECT_DOUBLE_EQ(parse_link_profile("250kbit,500us").rtt_seconds, 500e-6);
  EXPECT_DOUBLE_EQ(parse_link_profile("10MBit,1s").rtt_seconds, 1.0);
  // The same link written two ways compares equal in the hello.
  EXPECT_EQ(parse_link_profile("1gbit,2ms").canonical(), parse_link_profile("1000mbit,2000us").canonical());
  EXPECT_EQ(parse_link_profile("wan").canonical(), parse_link_profile("400mbit,40ms").canonical());
  EXPECT_NE(parse_link_profile("wan").canonical(), parse_link_profile("lan").canonical());
}

TEST(LinkProfile, BadProfilesNameWhatIsWrong) {
  auto message = [](const std::string& text) {
    try {
      parse_link_profile(text);
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  EXPECT_NE(message("fast").find("expected loopback, lan, wan or RATE,RTT"), std::string::npos);
  EXPECT_NE(message("1gb,2ms").find("unit must be bit, kbit, mbit or gbit"), std::string::npos);
  EXPECT_NE(message("1gbit,2").find("unit must be us, ms or s"), std::string::npos);
  EXPECT_NE(message("gbit,2ms").find("does not start with a number"), std::string::npos);
  EXPECT_NE(message("-1gbit,2ms").find("must be positive"), std::string::npos);
  EXPECT_NE(message("1gbit,0ms").find("must be positive"), std::string::npos);
  EXPECT_NE(message("nangbit,1ms").find("must be positive"), std::string::npos);
}

TEST(LinkProfile, WireBytesAddOneTlsRecordOverheadPer16KiB) {
  EXPECT_EQ(net::wire_bytes_of_frame(0), 22u);
  EXPECT_EQ(net::wire_bytes_of_frame(20), 42u);
  EXPECT_EQ(net::wire_bytes_of_frame(16384), 16384u + 22);
  EXPECT_EQ(net::wire_bytes_of_frame(16385), 16385u + 44);
  EXPECT_EQ(net::wire_bytes_of_frame(1u << 20), (1u << 20) + 64 * 22);
}

TEST(LinkProfile, ProjectionIsComputePlusHalfRttPerRoundPlusBusiestBytesOverRate) {
  const LinkProfile wan = parse_link_profile("wan");
  // 1 s compute, 100 rounds x 20 ms, 50 MB at 400 Mbit/s = 1 s.
  EXPECT_NEAR(wan.projected_seconds(1.0, 100, 50e6), 1.0 + 2.0 + 1.0, 1e-12);
  EXPECT_DOUBLE_EQ(parse_link_profile("loopback").projected_seconds(1.5, 1000, 1e9), 1.5);
}

TEST(LinkDirectionModel, FramesQueueBehindEachOtherAtTheRateThenTakeTheOneWayLatency) {
  // 8 Mbit/s = 1 byte per microsecond; 10 ms RTT = 5 ms one way.
  LinkDirectionModel link(parse_link_profile("8mbit,10ms"));
  const auto t0 = LinkDirectionModel::Clock::time_point(std::chrono::seconds(1000));
  const std::uint64_t frame = 10000 - 22;  // 10,000 wire bytes = 10 ms on the wire
  EXPECT_NEAR(seconds_between(t0, link.delivery(t0, frame)), 0.010 + 0.005, 1e-9);
  // Sent at the same moment: waits for the first to leave the sender.
  EXPECT_NEAR(seconds_between(t0, link.delivery(t0, frame)), 0.020 + 0.005, 1e-9);
  // Sent after the link went idle: only its own time on the wire and the latency.
  const auto later = t0 + std::chrono::milliseconds(100);
  EXPECT_NEAR(seconds_between(later, link.delivery(later, 0)), 22e-6 + 0.005, 1e-9);
}
