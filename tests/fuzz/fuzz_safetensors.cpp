// Fuzzes the safetensors reader (SafetensorsFile::parse). Malformed files must be rejected with
// std::invalid_argument; an accepted file must be fully readable (every tensor's values, and every
// 1-D/2-D tensor as a matrix) and must survive a write -> parse round trip with the same tensors.
#include "fuzz_check.hpp"
#include "model/safetensors.hpp"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

namespace {

bool same_value(float a, float b) { return a == b || (std::isnan(a) && std::isnan(b)); }

bool same_values(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (!same_value(a[i], b[i])) return false;
  return true;
}

void check_tensor_readable(const model::SafetensorsFile& file, const std::string& name) {
  const model::TensorInfo& info = file.info(name);
  const std::vector<float> values = file.values(name);
  fuzz::require_property(values.size() * model::dtype_size(info.dtype) == info.end - info.begin,
                         "values() returns exactly the elements of the tensor's byte range");
  if (info.shape.empty() || info.shape.size() > 2) return;
  const mpc::FloatMatrix matrix = file.matrix(name);
  fuzz::require_property(static_cast<std::size_t>(matrix.size()) == values.size(),
                         "matrix() holds every value of the tensor");
}

// Writing the parsed tensors as F32 and parsing the result gives the same names, shapes, values
// and metadata (F16/BF16 values are exactly representable in F32).
void check_round_trip(const model::SafetensorsFile& file) {
  std::vector<model::TensorToWrite> tensors;
  for (const std::string& name : file.names())
    tensors.push_back({name, file.info(name).shape, file.values(name)});
  std::optional<model::SafetensorsFile> rewritten;
  try {
    rewritten = model::SafetensorsFile::parse(model::serialize_safetensors(tensors, model::DType::F32, file.metadata()),
                                              "rewritten");
  } catch (const std::invalid_argument&) {
    // Not the input's fault: the writer produced a file the reader rejects.
    fuzz::require_property(false, "a file written from accepted tensors parses again");
  }
  const model::SafetensorsFile& again = *rewritten;
  fuzz::require_property(again.names() == file.names(), "round trip keeps the tensor names");
  fuzz::require_property(again.metadata() == file.metadata(), "round trip keeps the metadata");
  for (const model::TensorToWrite& t : tensors) {
    fuzz::require_property(again.info(t.name).shape == t.shape, "round trip keeps the shapes");
    fuzz::require_property(same_values(again.values(t.name), t.values), "round trip keeps the values");
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const model::SafetensorsFile file = model::SafetensorsFile::parse(std::vector<std::uint8_t>(data, data + size), "fuzz input");
    for (const std::string& name : file.names()) check_tensor_readable(file, name);
    check_round_trip(file);
  } catch (const std::invalid_argument&) {
    // Malformed input, rejected with a message: the expected outcome for most inputs.
  }
  return 0;
}
