// Correlated randomness of the 2PC backend, written once for both sides of the dealer relation.
// P0 and P1 call these functions to obtain their shares; the dealer calls the very same functions,
// in the same order, to obtain the full values. That shared order is what keeps the seeded streams
// in step: P0's share of everything is expanded from the seed P0 shares with the dealer, P1's
// random parts from the seed P1 shares with the dealer, and only P1's shares of values that depend
// on other randomness (the "corrections") travel, dealer -> P1, one frame per operation.
#pragma once

#include "mpc/prg.hpp"
#include "mpc/ring.hpp"
#include "net/mesh.hpp"
#include "protocols/common/matrix_codec.hpp"
#include "protocols/protocol.hpp"

#include <functional>
#include <optional>

namespace protocols {

using mpc::RingMatrix;

inline constexpr int kDealerId = 2;

class CorrelationStream {
 public:
  // P0 (`party` 0) or P1 (`party` 1), holding the seed it shares with the dealer.
  static CorrelationStream for_party(int party, const mpc::Seed& seed_with_dealer, net::Mesh& mesh);
  // The dealer, holding both seeds.
  static CorrelationStream for_dealer(const mpc::Seed& seed_p0, const mpc::Seed& seed_p1, net::Mesh& mesh);

  bool is_dealer() const { return party_ < 0; }

  // A uniformly random matrix whose two shares are expanded from the seeds (no traffic).
  // Parties get their share, the dealer the full value.
  RingMatrix mask(Eigen::Index rows, Eigen::Index cols);
  // A value the dealer computes from earlier masks: P0's share is expanded from its seed, P1's share
  // is the dealer's correction. `full` is evaluated on the dealer only.
  RingMatrix derived(Eigen::Index rows, Eigen::Index cols, const std::function<RingMatrix()>& full);
  // Ends one operation: the dealer sends the corrections gathered since the last call as one frame,
  // P1 checks it consumed exactly the frame it received.
  void finish_operation();

 private:
  CorrelationStream(int party, std::optional<mpc::Prg> prg0, std::optional<mpc::Prg> prg1, net::Mesh& mesh)
      : party_(party), prg0_(std::move(prg0)), prg1_(std::move(prg1)), mesh_(&mesh) {}
  RingMatrix next_correction(Eigen::Index rows, Eigen::Index cols);

  int party_;                    // 0, 1, or -1 for the dealer
  std::optional<mpc::Prg> prg0_;  // stream shared by P0 and the dealer
  std::optional<mpc::Prg> prg1_;  // stream shared by P1 and the dealer
  net::Mesh* mesh_;
  std::vector<RingMatrix> outgoing_;         // dealer: corrections of the current operation
  std::optional<MatrixReader> incoming_;     // P1: the current operation's frame, once received
};

// Beaver triple c = a * b, elementwise (a, b, c all rows x cols).
struct ElementwiseTriple {
  RingMatrix a, b, c;
};
ElementwiseTriple elementwise_triple(CorrelationStream& s, Eigen::Index rows, Eigen::Index cols);

// Matrix triple C = A . B with A m x k, B k x n.
struct MatrixTriple {
  RingMatrix a, b, c;
};
MatrixTriple matrix_triple(CorrelationStream& s, Eigen::Index m, Eigen::Index k, Eigen::Index n);

// For a fixed operand masked by B (the dealer passes the full B, parties may pass anything of the
// right shape): a fresh A with C = A . B, or C = A . B^T when `transposed`.
struct FixedTriple {
  RingMatrix a, c;
};
FixedTriple fixed_triple(CorrelationStream& s, mpc::RingView b, Eigen::Index b_rows, Eigen::Index b_cols,
                         Eigen::Index m, bool transposed);

// Truncation material for x -> x / 2^bits: a random r, r_low = (r mod 2^63) >> bits and
// r_msb = r >> 63 (as a ring element, 0 or 1).
struct TruncationMaterial {
  RingMatrix r, r_low, r_msb;
};
TruncationMaterial truncation_material(CorrelationStream& s, Eigen::Index rows, Eigen::Index cols, int bits);

}  // namespace protocols
