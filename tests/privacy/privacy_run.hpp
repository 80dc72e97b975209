// Runs private greedy generation on all three parties of a backend over real TLS meshes, with a
// RecordingMesh around every party's mesh, and returns what each party received.
#pragma once

#include "model/weights.hpp"
#include "protocols/protocol.hpp"
#include "tests/privacy/recording_mesh.hpp"

#include <array>
#include <filesystem>
#include <vector>

namespace privacy_test {

inline constexpr int kParties = 3;
inline constexpr int kModelOwner = 0;
inline constexpr int kUser = 1;

inline std::filesystem::path tiny_model_dir() {
  return std::filesystem::path(MPCACHE_SOURCE_DIR) / "tests/model/data/tiny-gpt2";
}

struct RecordedRun {
  std::array<std::vector<ReceivedFrame>, kParties> received;  // per party, in arrival order
  std::vector<int> tokens;                                     // what P1 learnt
};

// P0 inputs `weights`, P1 `prompt`; `new_tokens` greedy tokens are generated.
RecordedRun run_recorded(protocols::Backend backend, const model::TransformerWeights& weights,
                         const std::vector<int>& prompt, int new_tokens);

}  // namespace privacy_test
