#include "model/safetensors.hpp"

#include "model/half_float.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <bit>
#include <cstring>
#include <fstream>
#include <limits>
#include <stdexcept>

namespace model {
namespace {

using nlohmann::json;

// A header larger than this is not a real checkpoint (HF's own limit is 100 MB).
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;

[[noreturn]] void fail(const std::string& source, const std::string& message) {
  throw std::invalid_argument(source + ": " + message);
}

[[noreturn]] void fail_tensor(const std::string& source, const std::string& tensor, const std::string& message) {
  fail(source, "tensor '" + tensor + "': " + message);
}

std::uint64_t read_u64_le(const std::uint8_t* p) {
  std::uint64_t value = 0;
  for (int i = 7; i >= 0; --i) value = (value << 8) | p[i];
  return value;
}

DType parse_dtype(const json& entry, const std::string& source, const std::string& name) {
  if (!entry.contains("dtype") || !entry["dtype"].is_string()) fail_tensor(source, name, "missing string 'dtype'");
  const std::string dtype = entry["dtype"].get<std::string>();
  if (dtype == "F32") return DType::F32;
  if (dtype == "F16") return DType::F16;
  if (dtype == "BF16") return DType::BF16;
  fail_tensor(source, name, "unsupported dtype '" + dtype + "' (supported: F32, F16, BF16)");
}

std::vector<std::int64_t> parse_shape(const json& entry, const std::string& source, const std::string& name) {
  if (!entry.contains("shape") || !entry["shape"].is_array()) fail_tensor(source, name, "missing array 'shape'");
  std::vector<std::int64_t> shape;
  for (const json& dim : entry["shape"]) {
    // Dimensions are stored as int64 (as Eigen indexes them); a larger one would turn negative.
    if (!dim.is_number_unsigned() || dim.get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      fail_tensor(source, name, "shape entries must be non-negative integers below 2^63");
    shape.push_back(dim.get<std::int64_t>());
  }
  return shape;
}

// Number of bytes the shape needs, with overflow detection.
std::uint64_t byte_count(const TensorInfo& t, const std::string& source) {
  std::uint64_t count = dtype_size(t.dtype);
  for (std::int64_t dim : t.shape) {
    const auto d = static_cast<std::uint64_t>(dim);
    if (d != 0 && count > std::numeric_limits<std::uint64_t>::max() / d) fail_tensor(source, t.name, "shape overflows");
    count *= d;
  }
  return count;
}

TensorInfo parse_tensor(const std::string& name, const json& entry, const std::string& source) {
  if (!entry.is_object()) fail_tensor(source, name, "header entry must be an object");
  TensorInfo t;
  t.name = name;
  t.dtype = parse_dtype(entry, source, name);
  t.shape = parse_shape(entry, source, name);
  if (!entry.contains("data_offsets") || !entry["data_offsets"].is_array() || entry["data_offsets"].size() != 2 ||
      !entry["data_offsets"][0].is_number_unsigned() || !entry["data_offsets"][1].is_number_unsigned())
    fail_tensor(source, name, "'data_offsets' must be two non-negative integers");
  t.begin = entry["data_offsets"][0].get<std::uint64_t>();
  t.end = entry["data_offsets"][1].get<std::uint64_t>();
  if (t.end < t.begin) fail_tensor(source, name, "data_offsets end before begin");
  if (byte_count(t, source) != t.end - t.begin)
    fail_tensor(source, name, "shape x dtype size = " + std::to_string(byte_count(t, source)) + " bytes but data_offsets span " +
                                  std::to_string(t.end - t.begin));
  return t;
}

// The data section must be covered exactly: no gaps, no overlaps, nothing after the last tensor.
void check_layout(const std::map<std::string, TensorInfo>& tensors, std::uint64_t data_size, const std::string& source) {
  std::vector<const TensorInfo*> order;
  for (const auto& [name, t] : tensors) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const TensorInfo* a, const TensorInfo* b) {
    return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
  });
  std::uint64_t expected = 0;
  for (const TensorInfo* t : order) {
    if (t->end > data_size)
      fail_tensor(source, t->name, "data ends at byte " + std::to_string(t->end) + " but the data section has only " +
                                       std::to_string(data_size) + " bytes (truncated file?)");
    if (t->begin < expected) fail_tensor(source, t->name, "data overlaps the previous tensor");
    if (t->begin > expected) fail_tensor(source, t->name, "gap of unused bytes before this tensor");
    expected = t->end;
  }
  if (expected != data_size)
    fail(source, std::to_string(data_size - expected) + " bytes of trailing data after the last tensor");
}

std::map<std::string, std::string> parse_metadata(const json& entry, const std::string& source) {
  if (!entry.is_object()) fail(source, "'__metadata__' must be an object of strings");
  std::map<std::string, std::string> out;
  for (const auto& [key, value] : entry.items()) {
    if (!value.is_string()) fail(source, "'__metadata__' value for '" + key + "' must be a string");
    out[key] = value.get<std::string>();
  }
  return out;
}

void append_value(std::vector<std::uint8_t>& out, float value, DType dtype) {
  std::uint8_t bytes[4];
  std::size_t n = dtype_size(dtype);
  std::uint32_t bits = dtype == DType::F32   ? std::bit_cast<std::uint32_t>(value)
                       : dtype == DType::F16 ? float_to_half(value)
                                             : float_to_bfloat16(value);
  for (std::size_t i = 0; i < n; ++i) bytes[i] = static_cast<std::uint8_t>(bits >> (8 * i));
  out.insert(out.end(), bytes, bytes + n);
}

}  // namespace

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
  }
  return "?";
}

std::size_t dtype_size(DType dtype) { return dtype == DType::F32 ? 4 : 2; }

std::int64_t TensorInfo::elements() const {
  std::int64_t n = 1;
  for (std::int64_t d : shape) n *= d;
  return n;
}

SafetensorsFile SafetensorsFile::open(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open safetensors file " + path.string());
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::runtime_error("error reading " + path.string());
  return parse(std::move(bytes), path.string());
}

SafetensorsFile SafetensorsFile::parse(std::vector<std::uint8_t> bytes, std::string source) {
  if (bytes.size() < 8) fail(source, "file is " + std::to_string(bytes.size()) + " bytes, shorter than the 8-byte header length");
  const std::uint64_t header_length = read_u64_le(bytes.data());
  if (header_length > kMaxHeaderBytes) fail(source, "header length " + std::to_string(header_length) + " is implausibly large");
  if (header_length > bytes.size() - 8)
    fail(source, "header length " + std::to_string(header_length) + " exceeds the file (" + std::to_string(bytes.size()) +
                     " bytes; truncated file?)");
  const auto* header_begin = reinterpret_cast<const char*>(bytes.data() + 8);
  json header = json::parse(header_begin, header_begin + header_length, nullptr, false);
  if (header.is_discarded()) fail(source, "header is not valid JSON");
  if (!header.is_object()) fail(source, "header must be a JSON object");

  SafetensorsFile file;
  file.source_ = std::move(source);
  file.data_start_ = 8 + header_length;
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      file.metadata_ = parse_metadata(entry, file.source_);
    } else {
      file.tensors_.emplace(name, parse_tensor(name, entry, file.source_));
    }
  }
  check_layout(file.tensors_, bytes.size() - file.data_start_, file.source_);
  file.bytes_ = std::move(bytes);
  return file;
}

const TensorInfo& SafetensorsFile::info(const std::string& name) const {
  auto it = tensors_.find(name);
  if (it == tensors_.end()) throw std::out_of_range(source_ + ": no tensor named '" + name + "'");
  return it->second;
}

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  for (const auto& [name, t] : tensors_) out.push_back(name);
  return out;
}

std::vector<float> SafetensorsFile::values(const std::string& name) const {
  const TensorInfo& t = info(name);
  const std::uint8_t* p = bytes_.data() + data_start_ + t.begin;
  std::vector<float> out(static_cast<std::size_t>(t.elements()));
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (t.dtype == DType::F32) {
      std::uint32_t bits = 0;
      for (int b = 3; b >= 0; --b) bits = (bits << 8) | p[4 * i + b];
      out[i] = std::bit_cast<float>(bits);
    } else {
      const auto bits = static_cast<std::uint16_t>(p[2 * i] | (p[2 * i + 1] << 8));
      out[i] = t.dtype == DType::F16 ? half_to_float(bits) : bfloat16_to_float(bits);
    }
  }
  return out;
}

mpc::FloatMatrix SafetensorsFile::matrix(const std::string& name) const {
  const TensorInfo& t = info(name);
  if (t.shape.empty() || t.shape.size() > 2)
    fail_tensor(source_, name, "expected a 1-D or 2-D tensor, got " + std::to_string(t.shape.size()) + " dimensions");
  const Eigen::Index rows = t.shape.size() == 2 ? t.shape[0] : 1;
  const Eigen::Index cols = t.shape.back();
  const std::vector<float> v = values(name);
  return Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(v.data(), rows, cols)
      .cast<double>();
}

TensorToWrite tensor_from_matrix(std::string name, const mpc::FloatMatrix& matrix, bool as_vector) {
  if (as_vector && matrix.rows() != 1) throw std::invalid_argument("tensor '" + name + "': a 1-D tensor needs a 1-row matrix");
  TensorToWrite t;
  t.name = std::move(name);
  t.shape = as_vector ? std::vector<std::int64_t>{matrix.cols()} : std::vector<std::int64_t>{matrix.rows(), matrix.cols()};
  t.values.resize(static_cast<std::size_t>(matrix.size()));
  for (Eigen::Index i = 0; i < matrix.size(); ++i) t.values[i] = static_cast<float>(matrix.data()[i]);
  return t;
}

std::vector<std::uint8_t> serialize_safetensors(const std::vector<TensorToWrite>& tensors, DType dtype,
                                                const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  std::vector<std::uint8_t> data;
  for (const TensorToWrite& t : tensors) {
    std::int64_t elements = 1;
    for (std::int64_t d : t.shape) elements *= d;
    if (elements != static_cast<std::int64_t>(t.values.size()))
      throw std::invalid_argument("tensor '" + t.name + "': shape does not match the number of values");
    if (t.name == "__metadata__" || header.contains(t.name)) throw std::invalid_argument("duplicate or reserved tensor name '" + t.name + "'");
    const std::uint64_t begin = data.size();
    for (float v : t.values) append_value(data, v, dtype);
    header[t.name] = {{"dtype", to_string(dtype)}, {"shape", t.shape}, {"data_offsets", {begin, data.size()}}};
  }
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // keeps tensor data 8-byte aligned
  std::vector<std::uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[i] = static_cast<std::uint8_t>(static_cast<std::uint64_t>(text.size()) >> (8 * i));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

void write_safetensors(const std::filesystem::path& path, const std::vector<TensorToWrite>& tensors, DType dtype,
                       const std::map<std::string, std::string>& metadata) {
  const std::vector<std::uint8_t> bytes = serialize_safetensors(tensors, dtype, metadata);
  std::ofstream out(path, std::ios::binary);
  if (!out) throw std::runtime_error("cannot create " + path.string());
  out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("error writing " + path.string());
}

}  // namespace model
