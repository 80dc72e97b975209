#include "protocols/three_party/three_party.hpp"

#include "protocols/common/exact_truncation.hpp"
#include "protocols/common/fixed_operand_state.hpp"
#include "protocols/common/matrix_codec.hpp"
#include "protocols/common/ring_kernels.hpp"
#include "protocols/common/row_groups.hpp"
#include "protocols/common/shape_checks.hpp"

namespace protocols {

namespace {

// Roles in the truncation protocol: the pair that opens the masked value, and the helper that
// knows the mask.
constexpr int kPairFirst = 0;
constexpr int kPairSecond = 1;
constexpr int kHelper = 2;

// One round between the two parties of the pair: sends `mine`, returns the peer's matrices.
std::vector<RingMatrix> swap_with(net::Mesh& mesh, int peer, const std::vector<RingMatrix>& mine, const char* what) {
  const net::Bytes frame = pack(std::span<const RingMatrix>(mine));
  const net::Outgoing out[] = {{peer, frame}};
  const int from[] = {peer};
  const auto received = mesh.exchange(out, from);
  return unpack(received.front(), shapes_of(mine), what);
}

}  // namespace

ReplicatedProtocol::ReplicatedProtocol(net::Mesh& mesh, mpc::FixedPoint fp, const mpc::Seed& own_key,
                                       const mpc::Seed& next_key)
    : Protocol(mesh, fp),
      self_(mesh.self()),
      next_((mesh.self() + 1) % 3),
      prev_((mesh.self() + 2) % 3),
      own_(own_key),
      next_prg_(next_key) {
  if (mesh.size() != 3) throw std::invalid_argument("3pc: needs a 3-party mesh");
}

Role ReplicatedProtocol::role() const {
  switch (self_) {
    case 0: return Role::P0;
    case 1: return Role::P1;
    default: return Role::P2;
  }
}

RingMatrix ReplicatedProtocol::zero_sharing(Eigen::Index rows, Eigen::Index cols) {
  RingMatrix alpha = own_.random(rows, cols);
  alpha -= next_prg_.random(rows, cols);
  return alpha;
}

Share ReplicatedProtocol::input(int owner, const RingMatrix* value, Eigen::Index rows, Eigen::Index cols) {
  if (owner < 0 || owner > 2) throw std::invalid_argument("3pc input: the owner must be party 0, 1 or 2");
  // Components: x_{o+1} from key k_{o+1} (owner and party o+1), x_{o+2} = 0, x_o = x - x_{o+1},
  // which only party o+2 lacks.
  const int after_owner = (owner + 1) % 3;
  if (self_ == after_owner) return Share{own_.random(rows, cols), RingMatrix::Zero(rows, cols)};
  if (self_ == owner) {
    check_input_value(value, rows, cols);
    RingMatrix second = next_prg_.random(rows, cols);
    RingMatrix first = *value - second;
    const net::Bytes frame = pack(std::span<const RingMatrix>(&first, 1));
    const net::Outgoing out[] = {{prev_, frame}};
    mesh_->exchange(out, {});
    return Share{std::move(first), std::move(second)};
  }
  const int from[] = {next_};
  const auto received = mesh_->exchange({}, from);
  return Share{RingMatrix::Zero(rows, cols), unpack_one(received.front(), Shape{rows, cols}, "3pc input")};
}

RingMatrix ReplicatedProtocol::reveal(const Share& x, int to) {
  if (to != kRevealToAll && (to < 0 || to > 2)) throw std::invalid_argument("3pc reveal: unknown party");
  // Party t lacks x_{t+2}, the second component of party t+1.
  const net::Bytes frame = pack(std::span<const RingMatrix>(&x.second, 1));
  std::vector<net::Outgoing> out;
  std::vector<int> from;
  if (to == kRevealToAll || to == prev_) out.push_back({prev_, frame});
  if (to == kRevealToAll || to == self_) from.push_back(next_);
  if (out.empty() && from.empty()) return RingMatrix();
  const auto received = mesh_->exchange(out, from);
  if (from.empty()) return RingMatrix();
  RingMatrix missing = unpack_one(received.front(), Shape{x.rows(), x.cols()}, "3pc reveal");
  return x.first + x.second + missing;
}

Share ReplicatedProtocol::add_public(const Share& x, const RingMatrix& c) const {
  check_same_shape(x.rows(), x.cols(), c.rows(), c.cols(), "add_public");
  // c goes into component x_0, held by party 0 (first) and party 2 (second).
  Share out = x;
  if (self_ == 0) out.first += c;
  if (self_ == 2) out.second += c;
  return out;
}

std::vector<Share> ReplicatedProtocol::reshare(std::vector<RingMatrix> components) {
  const net::Bytes frame = pack(std::span<const RingMatrix>(components));
  const net::Outgoing out[] = {{prev_, frame}};
  const int from[] = {next_};
  const auto received = mesh_->exchange(out, from);
  auto next_components = unpack(received.front(), shapes_of(components), "3pc reshare");
  std::vector<Share> shares;
  for (std::size_t i = 0; i < components.size(); ++i)
    shares.push_back(Share{std::move(components[i]), std::move(next_components[i])});
  return shares;
}

std::vector<Share> ReplicatedProtocol::mul(std::span<const Share> x, std::span<const Share> y) {
  check_counts(x.size(), y.size(), "mul");
  std::vector<RingMatrix> z;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check_same_shape(x[i].rows(), x[i].cols(), y[i].rows(), y[i].cols(), "mul");
    RingMatrix zi = x[i].first.cwiseProduct(y[i].first + y[i].second) + x[i].second.cwiseProduct(y[i].first);
    zi += zero_sharing(zi.rows(), zi.cols());
    z.push_back(std::move(zi));
  }
  return reshare(std::move(z));
}

// x_i y_i + x_i y_{i+1} + x_{i+1} y_i, the three cross terms party i can form, computed as
// (x_i + x_{i+1}) y_i + x_i y_{i+1}: the sum is taken on x, the fresh (usually small) operand,
// never on y, which may be a whole weight matrix or KV cache.
template <typename Y, typename Product>
RingMatrix ReplicatedProtocol::cross_terms(const Share& x, const Y& y, Product product) {
  const RingMatrix x_sum = x.first + x.second;
  RingMatrix z = product(x_sum, y.first);
  z += product(x.first, y.second);
  z += zero_sharing(z.rows(), z.cols());
  return z;
}

std::vector<Share> ReplicatedProtocol::matmul(std::span<const Share> x, std::span<const Share> y) {
  check_counts(x.size(), y.size(), "matmul");
  std::vector<RingMatrix> z;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check_inner(x[i].cols(), y[i].rows(), "matmul");
    z.push_back(cross_terms(x[i], y[i], [](mpc::RingView a, mpc::RingView b) { return ring_product(a, b); }));
  }
  return reshare(std::move(z));
}

std::vector<FixedOperand> ReplicatedProtocol::fix(std::span<const Share> w) {
  std::vector<FixedOperand> out;
  // The state only marks the operand as fixed by this backend; replicated products need no mask.
  for (const Share& s : w) out.push_back(FixedOperand{s, std::make_shared<int>(0)});
  return out;
}

void ReplicatedProtocol::append_rows(std::span<FixedOperand* const> w, std::span<const Share> rows) {
  check_counts(w.size(), rows.size(), "append_rows");
  for (std::size_t i = 0; i < w.size(); ++i) {
    check_fixed_state(*w[i], "append_rows");
    check_columns(rows[i].cols(), w[i]->value.cols(), "append_rows");
    append_below(w[i]->value.first, rows[i].first);
    append_below(w[i]->value.second, rows[i].second);
  }
}

std::vector<Share> ReplicatedProtocol::matmul_fixed(std::span<const Share> x, std::span<const FixedOperand* const> w) {
  check_counts(x.size(), w.size(), "matmul_fixed");
  std::vector<RingMatrix> z;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check_fixed_state(*w[i], "matmul_fixed");
    check_inner(x[i].cols(), w[i]->value.rows(), "matmul_fixed");
    z.push_back(cross_terms(x[i], w[i]->value, [](mpc::RingView a, mpc::RingView b) { return ring_product(a, b); }));
  }
  return reshare(std::move(z));
}

std::vector<Share> ReplicatedProtocol::matmul_fixed_transposed(std::span<const Share> x,
                                                               std::span<const FixedOperand* const> w) {
  check_counts(x.size(), w.size(), "matmul_fixed_transposed");
  std::vector<RingMatrix> z;
  for (std::size_t i = 0; i < x.size(); ++i) {
    check_fixed_state(*w[i], "matmul_fixed_transposed");
    const GrowingShare& k = w[i]->value;
    check_inner(x[i].cols(), k.cols(), "matmul_fixed_transposed");
    z.push_back(cross_terms(x[i], k, [](mpc::RingView a, mpc::RingView b) { return ring_product_transposed(a, b); }));
  }
  return reshare(std::move(z));
}

FixedOperand ReplicatedProtocol::group_rows(const FixedOperand& w, Eigen::Index rows_per_group) const {
  check_rows_per_group(rows_per_group);
  check_fixed_state(w, "group_rows");
  const Share grouped{grouped_rows(w.value.first, rows_per_group), grouped_rows(w.value.second, rows_per_group)};
  return FixedOperand{grouped, std::make_shared<int>(0)};
}

std::vector<Share> ReplicatedProtocol::truncate(std::span<const Share> x, int bits) {
  check_truncation_bits(bits);
  return self_ == kHelper ? truncate_helper(x, bits) : truncate_pair(x, bits);
}

// P0 and P1. P0 holds (x_0, x_1), P1 holds (x_1, x_2): a 2-out-of-2 sharing x = (x_0 + x_1) + x_2.
// Mask r = r_a + r_b: r_a from k_0 (P0 and P2), r_b from k_2 (P1 and P2). P0's shares of r_low and
// r_msb come from k_0; P1's are P2's corrections. Output components: y_0 from k_0, y_2 from k_2,
// y_1 = z_0 - y_0 + z_1 - y_2 assembled by both in round 2.
std::vector<Share> ReplicatedProtocol::truncate_pair(std::span<const Share> x, int bits) {
  const bool first = self_ == kPairFirst;
  const int peer = first ? kPairSecond : kPairFirst;
  mpc::Prg& with_helper = first ? own_ : next_prg_;
  std::vector<RingMatrix> masked, r_low, r_msb;
  for (const Share& s : x) {
    RingMatrix r = with_helper.random(s.rows(), s.cols());
    if (first) {
      masked.push_back(s.first + s.second + r);
      masked.back().array() += kTruncationOffset;
      r_low.push_back(own_.random(s.rows(), s.cols()));
      r_msb.push_back(own_.random(s.rows(), s.cols()));
    } else {
      masked.push_back(s.second + r);
    }
  }
  // Round 1: open c between the pair; P1 also receives its correction shares from the helper.
  const net::Bytes frame = pack(std::span<const RingMatrix>(masked));
  const net::Outgoing out[] = {{peer, frame}};
  std::vector<int> from{peer};
  if (!first) from.push_back(kHelper);
  const auto received = mesh_->exchange(out, from);
  auto opened = unpack(received[0], shapes_of(masked), "3pc truncation open");
  if (!first) {
    std::vector<Shape> correction_shapes;
    for (const auto& m : masked) correction_shapes.insert(correction_shapes.end(), 2, shape_of(m));
    auto corrections = unpack(received[1], correction_shapes, "3pc truncation corrections");
    for (std::size_t i = 0; i < masked.size(); ++i) {
      r_low.push_back(std::move(corrections[2 * i]));
      r_msb.push_back(std::move(corrections[2 * i + 1]));
    }
  }
  // Round 2: from the 2-out-of-2 result to replicated shares.
  std::vector<RingMatrix> own_part, masked_part;
  for (std::size_t i = 0; i < masked.size(); ++i) {
    opened[i] += masked[i];
    const RingMatrix z = truncated_share(opened[i], r_low[i], r_msb[i], bits, first);
    own_part.push_back(with_helper.random(z.rows(), z.cols()));  // y_0 for P0, y_2 for P1
    masked_part.push_back(z - own_part.back());
  }
  const auto peer_part = swap_with(*mesh_, peer, masked_part, "3pc truncation reshare");
  std::vector<Share> result;
  for (std::size_t i = 0; i < masked.size(); ++i) {
    RingMatrix middle = masked_part[i] + peer_part[i];  // y_1
    result.push_back(first ? Share{std::move(own_part[i]), std::move(middle)}
                           : Share{std::move(middle), std::move(own_part[i])});
  }
  return result;
}

// P2 knows r = r_a + r_b, sends P1 its shares of r_low and r_msb, and takes (y_2, y_0) from its keys.
std::vector<Share> ReplicatedProtocol::truncate_helper(std::span<const Share> x, int bits) {
  constexpr mpc::u64 kLow63 = (mpc::u64{1} << 63) - 1;
  std::vector<RingMatrix> corrections;
  for (const Share& s : x) {
    RingMatrix r = next_prg_.random(s.rows(), s.cols());  // r_a, k_0
    r += own_.random(s.rows(), s.cols());                 // r_b, k_2
    const RingMatrix low = r.unaryExpr([bits](mpc::u64 v) { return (v & kLow63) >> bits; });
    const RingMatrix msb = r.unaryExpr([](mpc::u64 v) { return v >> 63; });
    corrections.push_back(low - next_prg_.random(s.rows(), s.cols()));
    corrections.push_back(msb - next_prg_.random(s.rows(), s.cols()));
  }
  const net::Bytes frame = pack(std::span<const RingMatrix>(corrections));
  const net::Outgoing out[] = {{kPairSecond, frame}};
  mesh_->exchange(out, {});
  std::vector<Share> result;
  for (const Share& s : x) {
    RingMatrix y0 = next_prg_.random(s.rows(), s.cols());
    RingMatrix y2 = own_.random(s.rows(), s.cols());
    result.push_back(Share{std::move(y2), std::move(y0)});
  }
  return result;
}

}  // namespace protocols
