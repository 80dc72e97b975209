#include "model/secure/session_config.hpp"

#include <cstdint>
#include <cstdio>
#include <sstream>

namespace model::secure {

namespace {

std::string exact(double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%a", v);
  return buffer;
}

}  // namespace

std::string describe_public_config(const ModelConfig& c) {
  std::ostringstream out;
  out << "arch=" << to_string(c.architecture) << ";act=" << static_cast<int>(c.activation) << ";vocab=" << c.vocab_size
      << ";hidden=" << c.hidden_size << ";layers=" << c.layers << ";heads=" << c.heads << ";kv_heads=" << c.kv_heads
      << ";head_dim=" << c.head_dim << ";inter=" << c.intermediate_size << ";positions=" << c.max_positions
      << ";eps=" << exact(c.norm_eps) << ";theta=" << exact(c.rope_theta) << ";tied=" << c.tie_word_embeddings;
  return out.str();
}

std::string secure_session_config(const ModelConfig& config) {
  // The public fields themselves (not a digest of them), so that a mismatch names the field.
  return "secure-model " + describe_public_config(config);
}

bool same_public_config(const ModelConfig& a, const ModelConfig& b) {
  return describe_public_config(a) == describe_public_config(b);
}

}  // namespace model::secure
