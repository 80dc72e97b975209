// Shape checks of a cache handed to SecureTransformer::adopt_cache (public shapes only).
#pragma once

#include "model/config.hpp"
#include "protocols/protocol.hpp"

#include <vector>

namespace model::secure {

// `keys`, `values`: per layer and per key/value head, each `length` x head_dim, for a sequence
// whose next token is at `next_position` (>= length); throws std::invalid_argument naming what is
// wrong.
void check_adopted_cache(const ModelConfig& config, const std::vector<std::vector<protocols::Share>>& keys,
                         const std::vector<std::vector<protocols::Share>>& values, int length, int next_position);

}  // namespace model::secure
