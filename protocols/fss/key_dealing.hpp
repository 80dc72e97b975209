// What the FSS gates (comparison, lookup) have in common: the key dealer (the 2PC dealer, or P2
// in 3PC under the honest majority) and the two evaluating parties P0 and P1, the seeds the dealer
// shares with each of them, the AES PRG of the keys, and the moves between the backend's shares
// and the two parties' additive shares:
//  - a gate's input becomes a 2-out-of-2 additive sharing between P0 and P1 locally (3PC: x_0 + x_1
//    at P0, x_2 at P1), masked by a value whose two parts come from the seeds, and opened between
//    P0 and P1 in one round (P2 never sees it);
//  - the gate's additive result is the backend's share directly in 2PC; in 3PC one more round
//    between P0 and P1 turns it into replicated shares whose components y_0, y_2 come from the
//    seeds P2 shares with P0 and P1 (P2 learns nothing: it only sends).
// Every party constructs one at the same point of the program (a session's, when it opens:
// protocols/session.hpp); gates drawing from it must run in the same order everywhere, as every
// operator does.
#pragma once

#include "mpc/prg.hpp"
#include "protocols/common/matrix_codec.hpp"
#include "protocols/fss/fixed_key_aes.hpp"
#include "protocols/protocol.hpp"

#include <functional>
#include <optional>
#include <vector>

namespace protocols::fss {

class KeyDealing {
 public:
  // Agrees fresh seeds with the key dealer: one message to each of P0 and P1, "offline".
  explicit KeyDealing(Protocol& proto);

  Protocol& protocol() { return proto_; }
  int self() const { return self_; }
  bool is_key_dealer() const;
  FixedKeyAes& aes() { return aes_; }
  // The PRG shared by the key dealer and P0 (P1): present at the dealer and at P0 (P1).
  mpc::Prg* with_p0() { return prg_p0_ ? &*prg_p0_ : nullptr; }
  mpc::Prg* with_p1() { return prg_p1_ ? &*prg_p1_ : nullptr; }

  // Key material common to P0 and P1 (the correction words of DCF and DPF keys, the same in both
  // keys) followed by P1's own part, one frame each, in the "offline" phase (dealer only): packed
  // once into P1's frame, of which P0 is sent the common prefix.
  void send_keys(std::span<const std::span<const std::uint64_t>> common, std::span<const RingMatrix> p1_only = {});
  void send_keys(std::span<const RingMatrix> common, std::span<const RingMatrix> p1_only = {});
  // The same for material that only P1 receives (P0 expands all of its own from its seed).
  void send_keys_to_p1(std::span<const RingMatrix> to_p1);
  // The dealer's frame at P0 or P1.
  MatrixReader receive_keys(const char* what);

  // This party's part of the 2-out-of-2 sharing of x between P0 and P1 (P0 or P1 only).
  RingMatrix additive_share(const Share& x) const;
  // P0's and P1's masked parts summed: both send theirs to the other, one round for all. Part i
  // travels as its low bytes_for_bits(opened_bits[i]) bytes, and its sum is right modulo that many
  // bytes only (the gates read fewer bits than that).
  std::vector<RingMatrix> open_between_parties(std::span<const RingMatrix> masked_parts,
                                               std::span<const int> opened_bits, const char* what);
  // P0's and P1's additive results as the backend's shares: nothing in 2PC, one round in 3PC.
  std::vector<Share> as_shares(std::vector<RingMatrix> parts);
  // The key dealer's shares of results of these shapes, matching what as_shares gives P0 and P1.
  std::vector<Share> dealer_shares(std::span<const Shape> shapes);

 private:
  Protocol& proto_;
  int self_;
  bool replicated_;  // 3PC: P2 is the key dealer
  std::optional<mpc::Prg> prg_p0_, prg_p1_;
  FixedKeyAes aes_;
};

// A gate at P0 or P1 between the opening of its masked input and its evaluation.
struct MaskedGate {
  RingMatrix masked;                                               // this party's part of x + r
  int opened_bits = 64;                                            // evaluate reads x + r mod 2^this
  std::function<RingMatrix(const RingMatrix& opened)> evaluate;    // its additive result, given x + r
};

// Gates of any kind whose inputs are ready together: their masked inputs open in one round and
// (3PC) their results reshare in one more, whatever their number. Every party adds the same gates
// in the same order (the key dealer's are empty: its keys went out when the gate was prepared).
class FssRound {
 public:
  explicit FssRound(KeyDealing& dealing) : dealing_(dealing) {}
  // Returns the gate's position in run()'s results.
  std::size_t add(std::optional<MaskedGate> gate, Shape result);
  std::vector<Share> run();

 private:
  KeyDealing& dealing_;
  std::vector<MaskedGate> gates_;
  std::vector<Shape> shapes_;
};

// n pseudorandom blocks or words from a PRG.
std::vector<Block> blocks_from(mpc::Prg& prg, std::size_t n);
std::vector<std::uint64_t> words_from(mpc::Prg& prg, std::size_t n);

}  // namespace protocols::fss
