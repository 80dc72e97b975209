#include "model/secure/adopted_cache_checks.hpp"

#include <stdexcept>
#include <string>

namespace model::secure {

namespace {

void check_heads(const ModelConfig& c, const std::vector<std::vector<protocols::Share>>& per_layer, int length,
                 const std::string& who) {
  if (static_cast<int>(per_layer.size()) != c.layers)
    throw std::invalid_argument(who + "a cache for " + std::to_string(per_layer.size()) + " layers, the model has " +
                                std::to_string(c.layers));
  for (const auto& heads : per_layer) {
    if (static_cast<int>(heads.size()) != c.kv_heads)
      throw std::invalid_argument(who + "a layer with " + std::to_string(heads.size()) + " key/value heads, the model has " +
                                  std::to_string(c.kv_heads));
    for (const protocols::Share& h : heads)
      if (h.rows() != length || h.cols() != c.head_dim)
        throw std::invalid_argument(who + "every head must be " + std::to_string(length) + " x " + std::to_string(c.head_dim) +
                                    ", got " + std::to_string(h.rows()) + " x " + std::to_string(h.cols()));
  }
}

}  // namespace

void check_adopted_cache(const ModelConfig& c, const std::vector<std::vector<protocols::Share>>& keys,
                         const std::vector<std::vector<protocols::Share>>& values, int length, int next_position) {
  if (next_position < length)
    throw std::invalid_argument("adopt_cache: " + std::to_string(length) + " cached rows but only " +
                                std::to_string(next_position) + " tokens processed");
  check_heads(c, keys, length, "adopt_cache: keys: ");
  check_heads(c, values, length, "adopt_cache: values: ");
}

}  // namespace model::secure
