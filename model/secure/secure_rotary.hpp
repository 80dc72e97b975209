// Rotary position embedding on secret shares: positions are public, so the rotation is a public
// linear map of the q and k columns (one truncation round).
#pragma once

#include "model/config.hpp"
#include "protocols/protocol.hpp"

namespace model::secure {

// `qkv`: rows x (heads + 2 * kv_heads) * head_dim, the query, key and value columns of the rows at
// positions first_position, first_position + 1, ...; returns it with q and k rotated (Hugging
// Face convention: channel i pairs with i + head_dim / 2), v unchanged.
protocols::Share rotate_positions(protocols::Protocol& proto, const ModelConfig& config, const protocols::Share& qkv,
                                  int first_position);

}  // namespace model::secure
