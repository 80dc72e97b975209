// The public-config digest that the parties of a secure inference agree on at start.
#include "model/secure/secure_weights.hpp"
#include "model/secure/session_config.hpp"
#include "model/weights.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

namespace secure_model_test {
namespace {

model::ModelConfig tiny_config() {
  model::ModelConfig c;
  c.vocab_size = 64;
  c.hidden_size = 32;
  c.layers = 2;
  c.heads = 4;
  c.kv_heads = 4;
  c.head_dim = 8;
  c.intermediate_size = 128;
  c.max_positions = 32;
  return c;
}

TEST(SecureSessionConfig, EqualConfigsGiveEqualStrings) {
  EXPECT_EQ(model::secure::secure_session_config(tiny_config()), model::secure::secure_session_config(tiny_config()));
}

TEST(SecureSessionConfig, EveryPublicFieldChangesTheDigest) {
  const std::string base = model::secure::secure_session_config(tiny_config());
  std::vector<model::ModelConfig> variants(6, tiny_config());
  variants[0].vocab_size = 65;
  variants[1].layers = 3;
  variants[2].intermediate_size = 64;
  variants[3].max_positions = 33;
  variants[4].norm_eps = 1e-6;
  variants[5].tie_word_embeddings = false;
  for (const auto& v : variants) {
    EXPECT_NE(model::secure::secure_session_config(v), base) << model::secure::describe_public_config(v);
    EXPECT_FALSE(model::secure::same_public_config(v, tiny_config()));
  }
}

TEST(SecureWeights, ValuesOutsideTheFixedPointRangeAreRejectedNamingTheWeight) {
  EXPECT_DOUBLE_EQ(model::secure::max_weight_magnitude(16), std::ldexp(1.0, 31));
  model::FloatMatrix w = model::FloatMatrix::Constant(2, 3, 0.25);
  EXPECT_NO_THROW(model::secure::check_encodable("layer 0 qkv", w, 16));
  w(1, 2) = 3e9;
  try {
    model::secure::check_encodable("layer 0 qkv", w, 16);
    FAIL() << "3e9 exceeds 2^31";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layer 0 qkv"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[1, 2]"), std::string::npos) << e.what();
  }
  EXPECT_NO_THROW(model::secure::check_encodable("layer 0 qkv", w, 8));  // 2^47 at 8 fraction bits
  w(0, 0) = std::numeric_limits<double>::quiet_NaN();
  EXPECT_THROW(model::secure::check_encodable("layer 0 qkv", w, 8), std::invalid_argument);
}

// The FSS normalisation's bound on gains is checked on the owner's weights, naming the norm.
TEST(SecureWeights, NormGainsBeyondTheFssBoundAreRejectedNamingTheNorm) {
  model::TransformerWeights w = model::random_weights(tiny_config(), 3);
  EXPECT_NO_THROW(model::secure::check_norm_gains(w, 64.0));
  w.layers[1].mlp_norm_weight(5) = -70.0;
  try {
    model::secure::check_norm_gains(w, 64.0);
    FAIL() << "-70 exceeds the bound";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("layer 1 MLP norm"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[5]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace secure_model_test
