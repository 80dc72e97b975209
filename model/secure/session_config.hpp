// The job description the parties of a secure inference agree on in the session handshake
// (protocols::SessionOptions::config): a digest of the public model configuration, so a
// party started with another model's shapes fails at once instead of computing garbage.
#pragma once

#include "model/config.hpp"

#include <string>

namespace model::secure {

// A canonical text of every public field of `config` (exact doubles included).
std::string describe_public_config(const ModelConfig& config);

// "secure-model " + describe_public_config: the public fields, so a mismatch can name them.
std::string secure_session_config(const ModelConfig& config);

// True when two configurations describe the same public model (same description).
bool same_public_config(const ModelConfig& a, const ModelConfig& b);

}  // namespace model::secure
