// Comparisons by function secret sharing: one online round per batch in 2PC, two in 3PC.
//
// For [x < 0] on values with |x| < 2^(w-1) (w = 64: the whole ring read as signed), the dealer
// draws a mask r (shares from the seeds it shares with P0 and P1), and a DCF key pair for
// alpha = r mod 2^(w-1). The parties open y = x + r mod 2^w (one round, 8 bytes per element and
// party); with y' and r' the low w-1 bits,
//   msb_w(x) = y_(w-1) xor r_(w-1) xor [y' < r'],
// because subtracting r' from y' borrows from the top bit exactly when y' < r'. The DCF's payload
// beta = 1 - 2 r_(w-1) and an additive share of r_(w-1) give arithmetic shares of
// r_(w-1) xor [y' < r'] directly, and the public bit y_(w-1) makes the last xor linear: the result is
// an arithmetic 0/1 share with no further round. Neither party learns anything but y, which is
// uniform.
//
// Dealer traffic per comparison: the DCF correction words to each party (24 (w-1) + 8 bytes) and
// P1's share of r_(w-1) (8 bytes); P0's roots, masks and share are expanded from its seed.
//
// 3PC (honest majority): P2 deals the keys to P0 and P1. The replicated x becomes the 2-out-of-2
// sharing (x_0 + x_1) at P0, x_2 at P1 locally; P0 and P1 open y between themselves (P2 never sees
// y, nor anything computed from it), and a second round turns their 2-out-of-2 result into
// replicated shares whose components y_0 and y_2 come from the seeds P2 shares with P0 and P1 (the
// exact truncation's resharing, three_party/three_party.hpp). P2 learns nothing: it only sends. P0 and P1
// each see y (uniform) and the other's part masked by a component it does not hold. P2 together
// with P0 or P1 would know r and y, hence x: the construction rests on the honest majority, as the
// 3PC backend does.
#pragma once

#include "mpc/prg.hpp"
#include "protocols/fss/fixed_key_aes.hpp"
#include "protocols/protocol.hpp"

#include <optional>

namespace protocols::fss {

class FssComparison {
 public:
  // Agrees fresh seeds with the dealer (2PC) or P2 (3PC): one message to each of P0 and P1, "offline".
  explicit FssComparison(Protocol& proto);

  // [x < 0] as arithmetic shares of 0 or 1, for |x| < 2^(value_bits - 1); one round (3PC: two).
  Share less_than_zero(const Share& x, int value_bits);

  // Dealer bytes of one comparison on `value_bits`-bit values (both parties together).
  static std::size_t dealer_bytes_per_comparison(int value_bits);

 private:
  struct Material;
  Material draw_material(std::size_t n);
  Share as_dealer(const Share& x, int value_bits);
  Share as_party(const Share& x, int value_bits);
  RingMatrix additive_share(const Share& x) const;
  Share as_replicated(RingMatrix z);

  Protocol& proto_;
  int self_;
  bool replicated_;  // 3PC: P2 is the key dealer
  std::optional<mpc::Prg> prg_p0_, prg_p1_;  // shared with the dealer by P0 and P1 (the dealer has both)
  FixedKeyAes aes_;
};

}  // namespace protocols::fss
