#include "model/secure/value_widths.hpp"

#include "net/stats.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace model::secure {

namespace {
constexpr int kWordBits = 64;
}

int width_for_bound(double bound, int frac_bits) {
  if (!std::isfinite(bound)) return kWordBits;
  const int floor_bits = frac_bits + 2;
  if (bound <= 0) return floor_bits;
  const int magnitude = static_cast<int>(std::floor(std::log2(2 * bound))) + 1;  // 2 * bound < 2^magnitude
  const long width = static_cast<long>(frac_bits) + 2 + magnitude;
  return static_cast<int>(std::clamp<long>(width, floor_bits, kWordBits));
}

ValueWidths value_widths(const ValueBounds& bounds, int frac_bits) {
  ValueWidths w;
  for (double b : bounds.activation_input) w.activation.push_back(width_for_bound(b, frac_bits));
  for (double b : bounds.scores) w.scores.push_back(width_for_bound(b, frac_bits));
  for (double b : bounds.attention_output) w.attention_output.push_back(width_for_bound(b, frac_bits));
  w.logits = width_for_bound(bounds.logits, frac_bits);
  return w;
}

std::vector<std::uint8_t> encode_value_widths(const ValueWidths& widths) {
  std::vector<std::uint8_t> out;
  for (const auto* list : {&widths.activation, &widths.scores, &widths.attention_output})
    for (int w : *list) out.push_back(static_cast<std::uint8_t>(w));
  out.push_back(static_cast<std::uint8_t>(widths.logits));
  return out;
}

ValueWidths decode_value_widths(std::span<const std::uint8_t> bytes, int layers, int frac_bits) {
  const std::size_t expected = 3 * static_cast<std::size_t>(layers) + 1;
  if (bytes.size() != expected)
    throw std::invalid_argument("the model owner's value widths are " + std::to_string(bytes.size()) + " bytes, expected " +
                                std::to_string(expected));
  for (std::uint8_t b : bytes)
    if (b < frac_bits + 2 || b > kWordBits)
      throw std::invalid_argument("the model owner announced a value width of " + std::to_string(b) + " bits, outside [" +
                                  std::to_string(frac_bits + 2) + ", 64]");
  ValueWidths w;
  w.activation.assign(bytes.begin(), bytes.begin() + layers);
  w.scores.assign(bytes.begin() + layers, bytes.begin() + 2 * layers);
  w.attention_output.assign(bytes.begin() + 2 * layers, bytes.begin() + 3 * layers);
  w.logits = bytes.back();
  return w;
}

ValueWidths agree_value_widths(protocols::Protocol& proto, const ModelConfig& config, const TransformerWeights* owner_weights) {
  net::Mesh& mesh = proto.mesh();
  net::PhaseScope phase(mesh.stats(), "setup");
  const int frac_bits = proto.fixed_point().frac_bits();
  if (owner_weights) {
    const ValueWidths widths = value_widths(value_bounds(*owner_weights), frac_bits);
    const std::vector<std::uint8_t> message = encode_value_widths(widths);
    for (int peer = 0; peer < mesh.size(); ++peer)
      if (peer != mesh.self()) mesh.send(peer, message);
    return widths;
  }
  return decode_value_widths(mesh.recv(0), config.layers, frac_bits);
}

}  // namespace model::secure
