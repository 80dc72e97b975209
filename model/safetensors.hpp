// Reader and writer for the safetensors format: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the tensor bytes.
// The reader validates the whole layout before any tensor is used, so a truncated or malformed
// file is rejected with a message naming the file and the offending tensor.
#pragma once

#include "mpc/ring.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace model {

enum class DType { F32, F16, BF16 };

std::string to_string(DType dtype);
std::size_t dtype_size(DType dtype);

struct TensorInfo {
  std::string name;
  DType dtype = DType::F32;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte range in the data section
  std::uint64_t end = 0;

  std::int64_t elements() const;
};

class SafetensorsFile {
 public:
  // Reads and validates the file; throws std::runtime_error for I/O errors and
  // std::invalid_argument for malformed content.
  static SafetensorsFile open(const std::filesystem::path& path);
  // Validates an in-memory file; `source` names it in error messages.
  static SafetensorsFile parse(std::vector<std::uint8_t> bytes, std::string source);

  const std::string& source() const { return source_; }
  bool contains(const std::string& name) const { return tensors_.count(name) != 0; }
  const TensorInfo& info(const std::string& name) const;
  std::vector<std::string> names() const;
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // Values converted to float, in row-major order.
  std::vector<float> values(const std::string& name) const;
  // A 2-D tensor as rows x cols; a 1-D tensor of n values as a 1 x n matrix.
  mpc::FloatMatrix matrix(const std::string& name) const;

 private:
  std::string source_;
  std::vector<std::uint8_t> bytes_;
  std::uint64_t data_start_ = 0;
  std::map<std::string, TensorInfo> tensors_;
  std::map<std::string, std::string> metadata_;
};

struct TensorToWrite {
  std::string name;
  std::vector<std::int64_t> shape;
  std::vector<float> values;  // row-major, product(shape) values
};

// Row-major matrix -> 2-D tensor; as_vector = true writes a 1-D tensor (the matrix must have one row).
TensorToWrite tensor_from_matrix(std::string name, const mpc::FloatMatrix& matrix, bool as_vector = false);

std::vector<std::uint8_t> serialize_safetensors(const std::vector<TensorToWrite>& tensors, DType dtype,
                                                const std::map<std::string, std::string>& metadata = {});
void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors, DType dtype,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace model
