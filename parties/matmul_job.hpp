// The secure matrix-product job: the model owner (P0) inputs a weight matrix W, the user (P1) an
// activation X; the parties compute X . W in fixed point and only P1 learns it.
// Demo data comes from a public seed so that P1 can check the result against plaintext; this is
// a property of the demo, not of the protocol (in a deployment P1 never knows W).
#pragma once

#include "net/stats.hpp"
#include "protocols/protocol.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>

namespace parties {

struct MatmulJobOptions {
  int rows = 4;
  int inner = 768;
  int cols = 768;
  bool fixed_weight = true;  // mask W once (as a weight is), then multiply
  int repeats = 3;           // products with the same weight; latency is reported per product
  std::uint64_t demo_seed = 1;
};

struct MatmulJobResult {
  std::vector<double> product_seconds;  // one entry per repeat
  double max_abs_error = 0;             // P1 only: against the plaintext product
  bool checked = false;                 // true where the error was computed (P1)
  nlohmann::json to_json() const;
};

// Runs the job on any backend and role (including the 2PC dealer, which only produces material).
MatmulJobResult run_matmul_job(protocols::Protocol& proto, const MatmulJobOptions& options);

// Plaintext inputs of the demo, the same for every party that derives them from the seed.
struct MatmulDemoInputs {
  mpc::FloatMatrix x, w;
};
MatmulDemoInputs matmul_demo_inputs(const MatmulJobOptions& options);

}  // namespace parties
