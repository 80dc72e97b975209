// Runs secure operators on all three parties of a backend over real TLS meshes and brings party 0's
// opened results back to the test thread, with the online rounds each step took.
#pragma once

#include "protocols/ops/secure_ops.hpp"
#include "protocols/session.hpp"
#include "tests/support/session_options.hpp"
#include "tests/support/party_harness.hpp"

#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace ops_test {

using protocols::Backend;
using protocols::Share;
using protocols::ops::SecureOps;
using mpc::FloatMatrix;
using mpc::RingMatrix;

inline const char* kOnline = "online";

// What one party sees of a session: its operators, the shared inputs, and a way to record results.
class Party {
 public:
  Party(protocols::Session& session, SecureOps& ops, const std::vector<RingMatrix>& inputs);

  SecureOps& ops() { return ops_; }
  protocols::Session& session() { return session_; }
  protocols::Protocol& proto() { return proto_; }
  const Share& input(std::size_t i) const { return shares_.at(i); }
  // Opens x to everyone; party 0 records it under `name`.
  void record(const std::string& name, const Share& x);
  // Runs step (online phase) and records the rounds it took under `name`.
  Share timed(const std::string& name, const std::function<Share()>& step);
  // The same for a step with several results (e.g. the gates of one FSS round).
  std::vector<Share> timed_all(const std::string& name, const std::function<std::vector<Share>()>& step);

  std::map<std::string, RingMatrix>* results = nullptr;
  std::map<std::string, std::uint64_t>* rounds = nullptr;

 private:
  protocols::Session& session_;
  protocols::Protocol& proto_;
  SecureOps& ops_;
  std::vector<Share> shares_;
};

struct Outcome {
  std::map<std::string, RingMatrix> results;  // opened values (party 0)
  std::map<std::string, std::uint64_t> rounds;  // online rounds per timed step (party 0)
};

// Party 0 supplies every input; all parties open a session (with the test run's comparison
// method) and run `body` on its operators.
Outcome run_session(Backend backend, int frac_bits, const std::vector<RingMatrix>& inputs,
                    const std::function<void(Party&)>& body);

inline std::string backend_name(Backend b) { return protocols::to_string(b); }

using test_support::fss_comparisons;

// Max and mean absolute error between two float matrices.
struct ErrorStats {
  double max_abs = 0;
  double mean_abs = 0;
};
ErrorStats compare(const FloatMatrix& got, const FloatMatrix& want);

// Uniform reals in [lo, hi], deterministic per seed.
FloatMatrix uniform(Eigen::Index rows, Eigen::Index cols, double lo, double hi, unsigned seed);

}  // namespace ops_test
