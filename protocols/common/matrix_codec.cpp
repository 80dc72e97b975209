#include "protocols/common/matrix_codec.hpp"

#include <cstring>
#include <string>

namespace protocols {

namespace {
std::size_t bytes_of(Eigen::Index elements) { return static_cast<std::size_t>(elements) * sizeof(mpc::u64); }

void append(net::Bytes& out, const mpc::RingMatrix& m) {
  const auto bytes = mpc::as_bytes(m);
  out.insert(out.end(), bytes.begin(), bytes.end());
}
}  // namespace

Shape shape_of(const mpc::RingMatrix& m) { return {m.rows(), m.cols()}; }

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
  MatrixReader reader(frame, what);
  std::vector<mpc::RingMatrix> out;
  out.reserve(shapes.size());
  for (const Shape& s : shapes) out.push_back(reader.next(s.rows, s.cols));
  reader.expect_end();
  return out;
}

mpc::RingMatrix MatrixReader::next(Eigen::Index rows, Eigen::Index cols) {
  const std::size_t n = bytes_of(rows * cols);
  if (offset_ + n > frame_.size())
    throw net::NetError(std::string(what_) + ": frame of " + std::to_string(frame_.size()) +
                        " bytes is too short for the expected tensors (the parties disagree on the sequence of operations)");
  mpc::RingMatrix m(rows, cols);
  if (n > 0) std::memcpy(m.data(), frame_.data() + offset_, n);
  offset_ += n;
  return m;
}

void MatrixReader::expect_end() const {
  if (offset_ != frame_.size())
    throw net::NetError(std::string(what_) + ": frame has " + std::to_string(frame_.size() - offset_) +
                        " unexpected trailing bytes (the parties disagree on the sequence of operations)");
}

}  // namespace protocols
