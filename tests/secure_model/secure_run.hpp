// Runs the secure transformer on all three parties of a backend over real TLS meshes and collects
// what each party learnt, next to the plaintext greedy reference it is checked against.
#pragma once

#include "model/config.hpp"
#include "model/secure/secure_transformer.hpp"
#include "model/weights.hpp"
#include "protocols/protocol.hpp"
#include "protocols/session.hpp"

#include <array>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace secure_model_test {

inline constexpr int kParties = 3;

inline std::filesystem::path source_dir() { return MPCACHE_SOURCE_DIR; }
inline std::filesystem::path tiny_model_dir() { return source_dir() / "tests/model/data/tiny-gpt2"; }
inline std::filesystem::path kjv_model_dir() { return source_dir() / "models/kjv-gpt2"; }

struct PhaseCost {
  std::uint64_t rounds = 0;
  std::uint64_t bytes_sent = 0;  // summed over all parties
};

struct SecureRun {
  std::array<std::vector<int>, kParties> tokens;  // what each party's generate() returned
  mpc::FloatMatrix final_logits;                   // opened for verification only (1 x vocab)
  std::map<std::string, PhaseCost> cost;           // per phase; rounds as counted by P0
  double seconds = 0;
};

struct PlainRun {
  std::vector<int> tokens;
  model::Vector final_logits;
};

// Every party uses `configs[i]` as its public model config; P0 passes `weights`.
SecureRun run_secure(protocols::Backend backend, const model::TransformerWeights& weights,
                     const std::array<model::ModelConfig, kParties>& configs, const std::vector<int>& prompt,
                     int new_tokens);
SecureRun run_secure(protocols::Backend backend, const model::TransformerWeights& weights,
                     const std::vector<int>& prompt, int new_tokens);

// One party's session (the test run's comparison method) and secure engine for `weights`' model:
// P0, the model owner, passes the weights; the others build the same program from their config.
struct SecureParty {
  SecureParty(protocols::Backend backend, net::Mesh& mesh, const model::TransformerWeights& weights);
  protocols::Protocol& proto() { return session.protocol(); }

  protocols::Session session;
  model::secure::SecureTransformer engine;
};

// Greedy decoding with the plaintext engine.
PlainRun run_plain(const model::TransformerWeights& weights, const std::vector<int>& prompt, int new_tokens);

}  // namespace secure_model_test
