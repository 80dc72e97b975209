// Boolean (XOR) sharing of 64-bit words, the second half of the protocol layer: comparisons,
// bit decomposition and everything else that is cheaper on bits than on ring elements.
//
// Bit-sliced: the boolean share of a value is a RingMatrix of u64 whose bit j is bit j of the value,
// so one AND of two words evaluates 64 gates and one round carries whole tensors.
//  2PC: `first` is this party's XOR share, `second` is empty; the dealer holds zeros (shape only).
//  3PC: party i holds (b_i, b_{i+1}) of b = b_0 ^ b_1 ^ b_2, as `first` and `second`.
//
// Each implementation sets up its own correlated randomness at construction (fresh seeds agreed
// over the protocol's mesh), independent of the arithmetic backend's seeds; a session builds one
// when it opens (protocols/session.hpp) and every operator of the session shares it. Like the arithmetic
// layer, control flow above this interface may depend only on public data: the 2PC dealer runs
// the same program and produces the AND triples and daBits in the order the parties consume them.
#pragma once

#include "protocols/protocol.hpp"

#include <array>
#include <span>
#include <vector>

namespace protocols {

struct BoolShare {
  RingMatrix first;
  RingMatrix second;

  Eigen::Index rows() const { return first.rows(); }
  Eigen::Index cols() const { return first.cols(); }
};

// Sign of the second summand produced by from_arithmetic_shares.
enum class Summand { Plus, Minus };

class BooleanBackend {
 public:
  explicit BooleanBackend(Protocol& proto) : proto_(&proto) {}
  virtual ~BooleanBackend() = default;
  BooleanBackend(const BooleanBackend&) = delete;
  BooleanBackend& operator=(const BooleanBackend&) = delete;

  Protocol& protocol() { return *proto_; }

  // --- local operations (no communication) -------------------------------------------------
  static BoolShare xor_(const BoolShare& x, const BoolShare& y);
  static BoolShare and_public(const BoolShare& x, u64 mask);
  static BoolShare shift_left(const BoolShare& x, int bits);
  static BoolShare shift_right(const BoolShare& x, int bits);  // logical
  virtual BoolShare xor_public(const BoolShare& x, const RingMatrix& c) const = 0;
  BoolShare xor_public(const BoolShare& x, u64 c) const;
  BoolShare not_(const BoolShare& x) const { return xor_public(x, ~u64{0}); }
  // A sharing of a public matrix (no communication).
  BoolShare constant(const RingMatrix& c) const;

  // --- interactive operations ---------------------------------------------------------------
  // Bitwise ANDs of many pairs in one round.
  virtual std::vector<BoolShare> and_(std::span<const BoolShare> x, std::span<const BoolShare> y) = 0;
  BoolShare and_(const BoolShare& x, const BoolShare& y);
  // Two boolean-shared words (a, b) with a + b = x (mod 2^64), or a - b = x with Summand::Minus,
  // built from the parties' local arithmetic components: no communication in 2PC, one round in 3PC.
  // The adder-based A2B and the equality test start from these.
  virtual std::array<BoolShare, 2> from_arithmetic_shares(const Share& x, Summand second = Summand::Plus) = 0;
  // Bit 0 of every word as an arithmetic share of 0 or 1 (an integer, not fixed point).
  virtual Share bit_to_arithmetic(const BoolShare& bits) = 0;
  // Opens x to party `to` (or everyone with kRevealToAll); others get an empty matrix.
  virtual RingMatrix reveal(const BoolShare& x, int to) = 0;

 protected:
  // Throws std::invalid_argument unless x and y are lists of the same length and shapes.
  static void check_and_operands(std::span<const BoolShare> x, std::span<const BoolShare> y);

  Protocol* proto_;
};

}  // namespace protocols
