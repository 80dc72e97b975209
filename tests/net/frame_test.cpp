#include "net/frame.hpp"

#include <gtest/gtest.h>

TEST(Frame, HeaderRoundTripsAndIsLittleEndian) {
  const net::FrameHeader header{net::kFrameMagic, 0x0102030405060708ULL, 0x1122334455667788ULL};
  const net::EncodedHeader bytes = net::encode_header(header);
  EXPECT_EQ(bytes[0], 0x4d);  // 'M'
  EXPECT_EQ(bytes[4], 0x08);
  EXPECT_EQ(bytes[19], 0x11);
  const net::FrameHeader back = net::decode_header(bytes);
  EXPECT_EQ(back.magic, header.magic);
  EXPECT_EQ(back.sequence, header.sequence);
  EXPECT_EQ(back.length, header.length);
}
