// The protocol interface: every secure operation above this layer (non-linear operators, the
// secure transformer, the secure cache policies) is written once against it. One implementation
// per backend: 2PC with a dealer (protocols/two_party/two_party.hpp) and 3PC replicated
// (protocols/three_party/three_party.hpp).
//
// Control flow above this interface may depend only on public data (shapes, counts, budgets):
// the 2PC dealer runs the very same program with its own implementation (protocols/two_party/dealer.hpp),
// producing correlated randomness in the order the parties consume it.
#pragma once

#include "mpc/fixed_point.hpp"
#include "mpc/growing_rows.hpp"
#include "mpc/ring.hpp"
#include "net/mesh.hpp"

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace protocols {

using mpc::RingMatrix;
using mpc::u64;

inline constexpr int kRevealToAll = -1;
// Accounting phase of the 2PC dealer's traffic (on the dealer and on P1); online traffic stays in
// the caller's phase.
inline constexpr const char* kOfflinePhase = net::kOfflinePhase;

enum class Backend { TwoPartyDealer, ThreePartyReplicated };
enum class Role { P0, P1, P2, Dealer };

std::string to_string(Backend b);
std::string to_string(Role r);

// A party's share of a secret ring matrix.
//  2PC: `first` is this party's additive share, `second` is empty.
//  3PC: party i holds (x_i, x_{i+1}) of x = x_0 + x_1 + x_2, as `first` and `second`.
//  Dealer: `first` is a zero matrix that only carries the shape.
struct Share {
  RingMatrix first;
  RingMatrix second;

  Eigen::Index rows() const { return first.rows(); }
  Eigen::Index cols() const { return first.cols(); }
};

using RingRows = mpc::GrowingRows<u64>;

// The shares of a fixed operand, laid out as in Share, in storage that grows by appended rows
// without copying the rows already there (a KV cache gains a row per head and step).
struct GrowingShare {
  RingRows first;
  RingRows second;

  GrowingShare() = default;
  GrowingShare(Share s) : first(std::move(s.first)), second(std::move(s.second)) {}  // NOLINT: takes it over
  Eigen::Index rows() const { return first.rows(); }
  Eigen::Index cols() const { return first.cols(); }
  // A copy as a plain Share (for operations on whole shares).
  Share share() const { return Share{first.matrix(), second.matrix()}; }
  // The contents as a plain Share, leaving this empty (no copy unless spare capacity was taken).
  Share take() { return Share{first.release(), second.release()}; }
};

// A long-lived secret operand (a weight, the cached keys or values) masked once, so that later
// products with it open only the fresh operand. Rows can be appended (the KV cache grows); the
// backends keep the value and their state in GrowingRows, so an append copies only the new rows.
struct FixedOperand {
  GrowingShare value;
  std::shared_ptr<void> state;  // backend-specific: the mask's shares and the opened masked value
};

class Protocol {
 public:
  virtual ~Protocol() = default;

  virtual Backend backend() const = 0;
  virtual Role role() const = 0;
  const mpc::FixedPoint& fixed_point() const { return fp_; }
  net::Mesh& mesh() { return *mesh_; }

  // --- input and output -------------------------------------------------------------------
  // `owner` supplies `value` (ignored elsewhere); every party gets a share of it.
  virtual Share input(int owner, const RingMatrix* value, Eigen::Index rows, Eigen::Index cols) = 0;
  // Reconstructs x for party `to` (or everyone with kRevealToAll); other parties get an empty matrix.
  virtual RingMatrix reveal(const Share& x, int to) = 0;

  // --- local linear operations (no communication) ------------------------------------------
  Share add(const Share& x, const Share& y) const;
  Share sub(const Share& x, const Share& y) const;
  Share neg(const Share& x) const;
  virtual Share add_public(const Share& x, const RingMatrix& c) const = 0;
  Share scale(const Share& x, u64 c) const;                        // x * c
  Share mul_public(const Share& x, const RingMatrix& c) const;     // elementwise
  Share matmul_public(const Share& x, const RingMatrix& c) const;  // x . c
  Share public_matmul(const RingMatrix& c, const Share& x) const;  // c . x

  // --- interactive operations: one round each, whatever the sizes --------------------------
  // Elementwise products of many pairs in a single round.
  virtual std::vector<Share> mul(std::span<const Share> x, std::span<const Share> y) = 0;
  // Matrix products of many pairs in a single round (e.g. all heads of an attention layer).
  virtual std::vector<Share> matmul(std::span<const Share> x, std::span<const Share> y) = 0;
  // Masks long-lived operands once (one round for the whole list); products with them then open
  // only x. append_rows grows operands by new rows (the KV cache), masking only those rows.
  virtual std::vector<FixedOperand> fix(std::span<const Share> w) = 0;
  virtual void append_rows(std::span<FixedOperand* const> w, std::span<const Share> rows) = 0;
  // Makes room for `rows` rows in all in the operand's storage, so appends up to that size do not
  // reallocate (the default reserves the value; backends with more state reserve that too).
  virtual void reserve_rows(FixedOperand& w, Eigen::Index rows) const;
  // fix() for operands of any size without holding more than about `round_bytes` of one share
  // component in a round's messages: small operands share a round, a larger one is fixed in row
  // blocks (fix, then append_rows into storage reserved up front). Takes the shares over and frees
  // each one once it is fixed, so a party never holds a long list of operands twice.
  std::vector<FixedOperand> fix_bounded(std::vector<Share> w, std::size_t round_bytes = kFixRoundBytes);
  static constexpr std::size_t kFixRoundBytes = std::size_t(64) << 20;
  // x . W and x . W^T against fixed operands, many in one round.
  virtual std::vector<Share> matmul_fixed(std::span<const Share> x, std::span<const FixedOperand* const> w) = 0;
  virtual std::vector<Share> matmul_fixed_transposed(std::span<const Share> x,
                                                     std::span<const FixedOperand* const> w) = 0;
  // append_rows(grown, rows), then matmul_fixed_transposed(x, w), where w may name grown operands
  // (a decode step's new key rows and its queries against the keys): one round where the backend
  // opens both together (2PC), the two calls in sequence otherwise.
  virtual std::vector<Share> append_rows_and_matmul_fixed_transposed(std::span<FixedOperand* const> grown,
                                                                     std::span<const Share> rows,
                                                                     std::span<const Share> x,
                                                                     std::span<const FixedOperand* const> w);
  // The operand at the granularity of groups of `rows_per_group` consecutive rows (local, no
  // communication): row c of the result is rows [c*g, (c+1)*g) of w side by side (g * cols columns);
  // trailing rows that do not fill a group are left out. A secret k x C one-hot times it gathers
  // whole groups (e.g. key clusters) in one matmul_fixed that opens only the one-hot.
  virtual FixedOperand group_rows(const FixedOperand& w, Eigen::Index rows_per_group) const = 0;
  // Signed division by 2^bits, many tensors at once: the result is floor(x / 2^bits) or one more
  // (never anything else) for every |x| < 2^62, with 0 < bits < 62. One round for 2PC (dealer
  // material), two rounds for 3PC (see three_party/three_party.hpp for why).
  virtual std::vector<Share> truncate(std::span<const Share> x, int bits) = 0;

  // --- single-tensor conveniences -----------------------------------------------------------
  Share mul(const Share& x, const Share& y);
  Share matmul(const Share& x, const Share& y);
  FixedOperand fix(const Share& w);
  void append_rows(FixedOperand& w, const Share& rows);
  Share matmul_fixed(const Share& x, const FixedOperand& w);
  Share matmul_fixed_transposed(const Share& x, const FixedOperand& w);
  Share truncate(const Share& x, int bits);
  Share truncate(const Share& x) { return truncate(x, fp_.frac_bits()); }
  // Fixed-point products: ring product followed by truncation by F bits.
  Share mul_fp(const Share& x, const Share& y) { return truncate(mul(x, y)); }
  Share matmul_fp(const Share& x, const Share& y) { return truncate(matmul(x, y)); }

 protected:
  Protocol(net::Mesh& mesh, mpc::FixedPoint fp) : mesh_(&mesh), fp_(fp) {}

  net::Mesh* mesh_;
  mpc::FixedPoint fp_;
};

}  // namespace protocols
