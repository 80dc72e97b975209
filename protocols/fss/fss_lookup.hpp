// Lookup tables by function secret sharing (the DPF-based table lookup of the FSS literature, e.g.
// the LUT gates of Pika and SIGMA): shares of T[x mod 2^bits] for a public table T of 2^bits ring
// elements, in one online round (3PC: two).
//
// The key dealer draws a mask r (parts from the seeds it shares with P0 and P1) and a DPF key pair
// for the point alpha = r mod 2^bits with payload 1. P0 and P1 open y = x + r mod 2^bits
// (ceil(bits / 8) bytes per element and party; y is uniform) and evaluate their key on the whole domain: with e_b(z) party b's share
// of [z == r],
//   sum_z T[(y - z) mod 2^bits] e_b(z)  is party b's share of  T[(y - r) mod 2^bits] = T[x mod 2^bits].
// Only x mod 2^bits matters, so a caller may pass any share whose low bits are the index (a
// value reduced locally, see SecureOps::exp_negative). The index is never opened: y is masked by a
// uniform r, and each DPF key alone hides r.
//
// Dealer traffic per element: the DPF correction words to each of P0 and P1 (16 * bits bytes each;
// common to both keys, so P0 cannot expand them from its seed). Compute per element and party:
// about 1.5 AES blocks and one multiply-add per table entry.
#pragma once

#include "protocols/fss/dpf.hpp"
#include "protocols/fss/key_dealing.hpp"
#include "protocols/protocol.hpp"

#include <optional>
#include <span>
#include <vector>

namespace protocols::fss {

struct LookupTable {
  int bits = 0;                // 1 .. kMaxDpfBits
  std::vector<u64> entries;    // 2^bits ring elements
};

class FssLookup {
 public:
  explicit FssLookup(KeyDealing& dealing) : dealing_(dealing) {}

  // For every i, shares of tables[i][indices[i] mod 2^bits] elementwise (the shape of indices[i]).
  // All lookups share one round (3PC: two).
  std::vector<Share> lookup(std::span<const Share> indices, std::span<const LookupTable* const> tables);
  // Lookups of one index in several tables of the same bits, as a gate of a round shared with
  // other gates (key_dealing.hpp): one DPF key per element serves all the tables. The gate's result
  // stacks the tables' results by rows (tables x index rows, index columns). The keys are dealt now;
  // nothing at the key dealer. The tables must outlive the round.
  std::optional<MaskedGate> prepare(const Share& index, std::span<const LookupTable* const> tables);

  // One-hot rows of integer indices: for every element e of `index` (row-major), whose value mod
  // 2^bits is x_e, row e of the result holds shares of [x_e == j] for j = 0 .. columns - 1
  // (columns <= 2^bits). One round (3PC: two), the same keys as a lookup: the key's domain
  // evaluation read backwards from y_e is the one-hot itself, with no table products.
  Share one_hot(const Share& index, int bits, Eigen::Index columns);
  std::optional<MaskedGate> prepare_one_hot(const Share& index, int bits, Eigen::Index columns);
  // Dealer bytes of one lookup on `bits` bits (both parties together).
  static std::size_t dealer_bytes_per_lookup(int bits);

 private:
  struct Material;
  Material draw_material(std::size_t n);
  void deal(const Material& m, int bits);
  MaskedGate receive(const Share& index, Material m, std::vector<const LookupTable*> tables);
  MaskedGate receive_one_hot(const Share& index, Material m, int bits, Eigen::Index columns);
  // The masked index and the key's corrections at P0 or P1, for either gate.
  MaskedGate masked_index(const Share& index, const Material& m, int bits, DpfCorrections& keys);

  KeyDealing& dealing_;
};

}  // namespace protocols::fss
