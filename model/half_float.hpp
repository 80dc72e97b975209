// IEEE half precision and bfloat16 <-> float conversions (the 16-bit weight formats of
// safetensors checkpoints). Rounding to 16 bits is round-to-nearest-even, as in PyTorch.
#pragma once

#include <cstdint>

namespace model {

float half_to_float(std::uint16_t bits);
std::uint16_t float_to_half(float value);
float bfloat16_to_float(std::uint16_t bits);
std::uint16_t float_to_bfloat16(float value);

}  // namespace model
