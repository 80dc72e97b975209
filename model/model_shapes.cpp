#include "model/model_shapes.hpp"

#include <stdexcept>

namespace model {

namespace {

ModelConfig gpt2_like(int hidden, int layers, int heads, int max_positions) {
  ModelConfig c;
  c.architecture = Architecture::Gpt2;
  c.activation = Activation::GeluTanh;
  c.vocab_size = 50257;
  c.hidden_size = hidden;
  c.layers = layers;
  c.heads = c.kv_heads = heads;
  c.head_dim = hidden / heads;
  c.intermediate_size = 4 * hidden;
  c.max_positions = max_positions;
  c.validate();
  return c;
}

}  // namespace

std::vector<std::string> shape_names() { return {"gpt2-small", "gpt2-1024h32", "tiny"}; }

ModelConfig named_shape(const std::string& name, int max_positions) {
  if (name == "gpt2-small") return gpt2_like(768, 12, 12, max_positions);
  if (name == "gpt2-1024h32") return gpt2_like(1024, 12, 32, max_positions);
  if (name == "tiny") return gpt2_like(64, 2, 4, max_positions);
  throw std::invalid_argument("unknown model shape '" + name + "' (known: gpt2-small, gpt2-1024h32, tiny)");
}

}  // namespace model
