#include "protocols/common/matrix_codec.hpp"

#include <cstring>
#include <stdexcept>
#include <string>

namespace protocols {

namespace {
std::size_t bytes_of(Eigen::Index elements) { return static_cast<std::size_t>(elements) * sizeof(mpc::u64); }

void append(net::Bytes& out, const mpc::RingMatrix& m) {
  const auto bytes = mpc::as_bytes(m);
  out.insert(out.end(), bytes.begin(), bytes.end());
}

// Throws unless `frame` holds n more bytes at `offset`.
void expect_room(const net::Bytes& frame, std::size_t offset, std::size_t n, const char* what) {
  if (offset + n > frame.size())
    throw net::NetError(std::string(what) + ": frame of " + std::to_string(frame.size()) +
                        " bytes is too short for the expected tensors (the parties disagree on the sequence of operations)");
}

// Copies the elements of `out` (sized already) from `frame` at `offset`, which it advances.
void read_into(const net::Bytes& frame, std::size_t& offset, mpc::RingMatrix& out, const char* what) {
  const std::size_t n = bytes_of(out.size());
  expect_room(frame, offset, n, what);
  if (n > 0) std::memcpy(out.data(), frame.data() + offset, n);
  offset += n;
}

void expect_end_at(const net::Bytes& frame, std::size_t offset, const char* what) {
  if (offset != frame.size())
    throw net::NetError(std::string(what) + ": frame has " + std::to_string(frame.size() - offset) +
                        " unexpected trailing bytes (the parties disagree on the sequence of operations)");
}
}  // namespace

Shape shape_of(const mpc::RingMatrix& m) { return {m.rows(), m.cols()}; }

std::vector<Shape> shapes_of(std::span<const mpc::RingMatrix> matrices) {
  std::vector<Shape> out;
  out.reserve(matrices.size());
  for (const auto& m : matrices) out.push_back(shape_of(m));
  return out;
}

net::Bytes pack(std::span<const mpc::RingMatrix> matrices) {
  std::size_t total = 0;
  for (const auto& m : matrices) total += bytes_of(m.size());
  net::Bytes out;
  out.reserve(total);
  for (const auto& m : matrices) append(out, m);
  return out;
}

net::Bytes pack(std::span<const mpc::RingMatrix* const> matrices) {
  std::size_t total = 0;
  for (const auto* m : matrices) total += bytes_of(m->size());
  net::Bytes out;
  out.reserve(total);
  for (const auto* m : matrices) append(out, *m);
  return out;
}

std::vector<mpc::RingMatrix> unpack(const net::Bytes& frame, std::span<const Shape> shapes, const char* what) {
  std::vector<mpc::RingMatrix> out;
  out.reserve(shapes.size());
  std::size_t offset = 0;
  for (const Shape& s : shapes) read_into(frame, offset, out.emplace_back(s.rows, s.cols), what);
  expect_end_at(frame, offset, what);
  return out;
}

namespace {
void check_low_bytes(std::size_t matrices, std::span<const int> bytes) {
  if (bytes.size() != matrices) throw std::invalid_argument("low-byte codec: one byte count per matrix");
  for (int b : bytes)
    if (b < 1 || b > 8) throw std::invalid_argument("low-byte codec: byte counts must be in [1, 8]");
}
}  // namespace

net::Bytes pack_low_bytes(std::span<const mpc::RingMatrix> matrices, std::span<const int> bytes) {
  check_low_bytes(matrices.size(), bytes);
  std::size_t total = 0;
  for (std::size_t i = 0; i < matrices.size(); ++i) total += static_cast<std::size_t>(matrices[i].size() * bytes[i]);
  net::Bytes out(total);
  std::size_t offset = 0;
  for (std::size_t i = 0; i < matrices.size(); ++i) {
    const auto width = static_cast<std::size_t>(bytes[i]);
    for (Eigen::Index e = 0; e < matrices[i].size(); ++e, offset += width) {
      const mpc::u64 v = matrices[i].data()[e];
      for (std::size_t b = 0; b < width; ++b) out[offset + b] = static_cast<std::uint8_t>(v >> (8 * b));
    }
  }
  return out;
}

std::vector<mpc::RingMatrix> unpack_low_bytes(const net::Bytes& frame, std::span<const Shape> shapes,
                                              std::span<const int> bytes, const char* what) {
  check_low_bytes(shapes.size(), bytes);
  std::size_t total = 0;
  for (std::size_t i = 0; i < shapes.size(); ++i) total += static_cast<std::size_t>(shapes[i].size() * bytes[i]);
  if (frame.size() != total)
    throw net::NetError(std::string(what) + ": frame of " + std::to_string(frame.size()) + " bytes, expected " +
                        std::to_string(total) + " (the parties disagree on the sequence of operations)");
  std::vector<mpc::RingMatrix> out;
  out.reserve(shapes.size());
  std::size_t offset = 0;
  for (std::size_t i = 0; i < shapes.size(); ++i) {
    mpc::RingMatrix& m = out.emplace_back(shapes[i].rows, shapes[i].cols);
    const auto width = static_cast<std::size_t>(bytes[i]);
    for (Eigen::Index e = 0; e < m.size(); ++e, offset += width) {
      mpc::u64 v = 0;
      for (std::size_t b = 0; b < width; ++b) v |= static_cast<mpc::u64>(frame[offset + b]) << (8 * b);
      m.data()[e] = v;
    }
  }
  return out;
}

mpc::RingMatrix unpack_one(const net::Bytes& frame, Shape shape, const char* what) {
  return std::move(unpack(frame, std::span<const Shape>(&shape, 1), what).front());
}

void unpack_into(const net::Bytes& frame, std::span<mpc::RingMatrix* const> targets, const char* what) {
  std::size_t offset = 0;
  for (auto* m : targets) read_into(frame, offset, *m, what);
  expect_end_at(frame, offset, what);
}

mpc::RingMatrix MatrixReader::next(Eigen::Index rows, Eigen::Index cols) {
  mpc::RingMatrix m(rows, cols);
  read_into(frame_, offset_, m, what_);
  return m;
}

std::span<const mpc::u64> MatrixReader::next_words(std::size_t count) {
  const std::size_t n = bytes_of(static_cast<Eigen::Index>(count));
  expect_room(frame_, offset_, n, what_);
  const std::uint8_t* at = frame_.data() + offset_;
  // Frames start on the allocator's alignment and hold whole words, so every element is aligned.
  if (reinterpret_cast<std::uintptr_t>(at) % alignof(mpc::u64) != 0) throw std::logic_error("MatrixReader: misaligned frame");
  offset_ += n;
  return {reinterpret_cast<const mpc::u64*>(at), count};
}

void MatrixReader::expect_end() const { expect_end_at(frame_, offset_, what_); }

}  // namespace protocols
