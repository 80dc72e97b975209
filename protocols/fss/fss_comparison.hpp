// Comparisons by function secret sharing: one online round per batch in 2PC, two in 3PC.
//
// For [x < 0] on values with |x| < 2^(w-1) (w = 64: the whole ring read as signed), the dealer
// draws a mask r (shares from the seeds it shares with P0 and P1), and a DCF key pair for
// alpha = r mod 2^(w-1). The parties open y = x + r mod 2^w (one round, ceil(w / 8) bytes per
// element and party; ReLU opens all 64 bits); with y' and r' the low w-1 bits,
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
// 3PC (honest majority): P2 deals the keys to P0 and P1, which open y between themselves and turn
// their result into replicated shares in a second round (key_dealing.hpp). P0 and P1 each see y
// (uniform); P2 together with P0 or P1 would know r and y, hence x: the construction rests on the
// honest majority, as the 3PC backend does.
#pragma once

#include "protocols/fss/dcf.hpp"
#include "protocols/fss/key_dealing.hpp"
#include "protocols/protocol.hpp"

#include <optional>
#include <span>

namespace protocols::fss {

class FssComparison {
 public:
  explicit FssComparison(KeyDealing& dealing) : dealing_(dealing) {}

  // [x < 0] as arithmetic shares of 0 or 1, for |x| < 2^(value_bits - 1); one round (3PC: two).
  Share less_than_zero(const Share& x, int value_bits);
  // ReLU(x) = x [x >= 0] for |x| < 2^(value_bits - 1), also in one round (3PC: two): the DCF carries
  // a second payload word, r (1 - 2 r_top), so that the product of the bit with x = y - r is linear
  // in the keys' outputs.
  Share relu(const Share& x, int value_bits);

  // relu_with_bit: ReLU(x) stacked over [x >= 0] (2 x.rows() rows), from ReLU's key alone.
  enum class Output { sign_bit, relu, relu_with_bit, relu_select };
  // Either as a gate of a round shared with other gates (key_dealing.hpp): the keys are dealt now;
  // nothing at the key dealer.
  std::optional<MaskedGate> prepare(const Share& x, int value_bits, Output output = Output::sign_bit);
  // ReLU(x) and [x >= 0] y in one gate, for |x| < 2^(value_bits - 1) and any y of x's shape: y is
  // opened masked by its own s beside x, and a third payload word, s (1 - 2 r_top), with a share of
  // s r_top makes the bit's product with y = (y + s) - s linear as ReLU's is. The result stacks
  // ReLU(x) over [x >= 0] y (2 x.rows() rows). A max tree keeps the winner's index with it this way.
  std::optional<MaskedGate> prepare_select(const Share& x, const Share& y, int value_bits);

  // [x + c_j < 0] for public ring constants c_j, stacked by offset (offsets.size() x.rows() rows),
  // for |x + c_j| < 2^(value_bits - 1): one key and one opening of x per element, whatever the
  // number of offsets (the key is evaluated at each shift of the opening), for the range tests of
  // one value against several thresholds.
  std::optional<MaskedGate> prepare_signs(const Share& x, std::span<const u64> offsets, int value_bits);

  // Dealer bytes of one comparison on `value_bits`-bit values (both parties together).
  static std::size_t dealer_bytes_per_comparison(int value_bits);
  static std::size_t dealer_bytes_per_relu(int value_bits);
  static std::size_t dealer_bytes_per_select(int value_bits);

 private:
  struct Material;
  Material draw_material(std::size_t n, Output output);
  void deal(const Share& x, int value_bits, Output output);
  // `offsets` (sign bits only; none: x itself) as in prepare_signs.
  MaskedGate receive(const Share& x, const Share* y, int value_bits, Output output, std::span<const u64> offsets = {});
  RingMatrix signs_at_offsets(const RingMatrix& opened, std::span<const u64> offsets, const DcfKeysView& keys,
                              std::span<const Block> root, const RingMatrix& top_share, int value_bits);

  KeyDealing& dealing_;
};

}  // namespace protocols::fss
