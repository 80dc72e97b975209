// The frame codec of every backend: several ring matrices packed into one frame and back, so that
// a batched operation sends one message per peer per round whatever the number of tensors. Shapes
// are public and known to the receiver, so only the elements travel (row-major, native
// little-endian u64); a size mismatch means the parties ran different programs and is reported
// instead of silently misreading.
#pragma once

#include "mpc/ring.hpp"
#include "net/mesh.hpp"

#include <span>
#include <utility>
#include <vector>

namespace protocols {

struct Shape {
  Eigen::Index rows = 0;
  Eigen::Index cols = 0;
  Eigen::Index size() const { return rows * cols; }
};

Shape shape_of(const mpc::RingMatrix& m);
std::vector<Shape> shapes_of(std::span<const mpc::RingMatrix> matrices);

// Concatenates the elements of all matrices.
net::Bytes pack(std::span<const mpc::RingMatrix> matrices);
net::Bytes pack(std::span<const mpc::RingMatrix* const> matrices);
// Splits a frame into matrices of the given shapes; throws net::NetError if the size does not match.
std::vector<mpc::RingMatrix> unpack(const net::Bytes& frame, std::span<const Shape> shapes, const char* what);
// The frame of a single matrix.
mpc::RingMatrix unpack_one(const net::Bytes& frame, Shape shape, const char* what);
// The same into matrices the receiver holds already, sized: their shapes are the frame's layout.
void unpack_into(const net::Bytes& frame, std::span<mpc::RingMatrix* const> targets, const char* what);

// Only the low `bytes[i]` bytes (1..8) of every element of matrices[i], little-endian: for values
// that the receiver needs modulo 2^(8 bytes) only (a masked input of a gate on fewer bits). The
// receiver's elements hold those bytes and zeros above.
net::Bytes pack_low_bytes(std::span<const mpc::RingMatrix> matrices, std::span<const int> bytes);
std::vector<mpc::RingMatrix> unpack_low_bytes(const net::Bytes& frame, std::span<const Shape> shapes,
                                              std::span<const int> bytes, const char* what);
// Bytes that carry a value modulo 2^bits.
inline int bytes_for_bits(int bits) { return (bits + 7) / 8; }

// Sequential reader over a frame of concatenated matrices whose shapes are learned one at a time.
class MatrixReader {
 public:
  MatrixReader(net::Bytes frame, const char* what) : frame_(std::move(frame)), what_(what) {}
  mpc::RingMatrix next(Eigen::Index rows, Eigen::Index cols);
  // The next `count` elements in place, without a copy: valid while this reader (moved or not)
  // lives, since its frame's storage never moves.
  std::span<const mpc::u64> next_words(std::size_t count);
  // Throws if bytes are left over: sender and receiver disagree about the sequence of operations.
  void expect_end() const;

 private:
  net::Bytes frame_;
  std::size_t offset_ = 0;
  const char* what_;
};

}  // namespace protocols
