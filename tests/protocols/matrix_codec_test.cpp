// The frame codec's low-byte form: what an FSS opening sends when the gate reads its masked input
// modulo 2^w only.
#include "protocols/common/matrix_codec.hpp"

#include <gtest/gtest.h>

#include <random>

namespace {

using mpc::RingMatrix;
using mpc::u64;

RingMatrix random_matrix(Eigen::Index rows, Eigen::Index cols, unsigned seed) {
  std::mt19937_64 gen(seed);
  RingMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = gen();
  return m;
}

TEST(MatrixCodec, LowBytesCarryEachMatrixModuloItsOwnWidth) {
  const std::vector<RingMatrix> matrices = {random_matrix(3, 5, 1), random_matrix(1, 7, 2), random_matrix(2, 2, 3),
                                            RingMatrix(0, 4)};
  const std::vector<int> bytes = {1, 4, 8, 3};
  const net::Bytes frame = protocols::pack_low_bytes(matrices, bytes);
  EXPECT_EQ(frame.size(), 15u * 1 + 7u * 4 + 4u * 8);
  const std::vector<protocols::Shape> shapes = protocols::shapes_of(matrices);
  const std::vector<RingMatrix> back = protocols::unpack_low_bytes(frame, shapes, bytes, "test frame");
  ASSERT_EQ(back.size(), matrices.size());
  for (std::size_t i = 0; i < matrices.size(); ++i) {
    ASSERT_EQ(back[i].rows(), matrices[i].rows());
    ASSERT_EQ(back[i].cols(), matrices[i].cols());
    const u64 mask = bytes[i] == 8 ? ~u64{0} : (u64{1} << (8 * bytes[i])) - 1;
    for (Eigen::Index e = 0; e < matrices[i].size(); ++e)
      EXPECT_EQ(back[i].data()[e], matrices[i].data()[e] & mask) << "matrix " << i << " element " << e;
  }
}

TEST(MatrixCodec, LowBytesRefuseAFrameOfTheWrongSizeAndInvalidWidths) {
  const std::vector<RingMatrix> matrices = {random_matrix(2, 3, 4)};
  const std::vector<int> bytes = {2};
  net::Bytes frame = protocols::pack_low_bytes(matrices, bytes);
  const std::vector<protocols::Shape> shapes = protocols::shapes_of(matrices);
  frame.pop_back();
  EXPECT_THROW(protocols::unpack_low_bytes(frame, shapes, bytes, "short frame"), net::NetError);
  frame.push_back(0);
  frame.push_back(0);
  EXPECT_THROW(protocols::unpack_low_bytes(frame, shapes, bytes, "long frame"), net::NetError);
  const std::vector<int> zero = {0}, nine = {9}, two = {2, 2};
  EXPECT_THROW(protocols::pack_low_bytes(matrices, zero), std::invalid_argument);
  EXPECT_THROW(protocols::pack_low_bytes(matrices, nine), std::invalid_argument);
  EXPECT_THROW(protocols::pack_low_bytes(matrices, two), std::invalid_argument);
}

// Keys are read where they arrived: the words in place, valid after the reader moved, beside
// copied matrices, with the same checks on the frame's length.
TEST(MatrixCodec, ReaderGivesWordsInPlaceAndChecksTheFrame) {
  const std::vector<RingMatrix> matrices = {random_matrix(3, 5, 6), random_matrix(2, 2, 7)};
  protocols::MatrixReader reader(protocols::pack(matrices), "codec test");
  const std::span<const mpc::u64> words = reader.next_words(15);
  protocols::MatrixReader moved = std::move(reader);
  const RingMatrix second = moved.next(2, 2);
  moved.expect_end();
  for (Eigen::Index e = 0; e < 15; ++e) EXPECT_EQ(words[static_cast<std::size_t>(e)], matrices[0].data()[e]);
  EXPECT_EQ(second, matrices[1]);
  protocols::MatrixReader short_frame(protocols::pack(matrices), "short frame");
  EXPECT_THROW(short_frame.next_words(20), net::NetError);
}

TEST(MatrixCodec, BytesForBitsRoundsUp) {
  EXPECT_EQ(protocols::bytes_for_bits(1), 1);
  EXPECT_EQ(protocols::bytes_for_bits(8), 1);
  EXPECT_EQ(protocols::bytes_for_bits(9), 2);
  EXPECT_EQ(protocols::bytes_for_bits(29), 4);
  EXPECT_EQ(protocols::bytes_for_bits(64), 8);
}

}  // namespace
