// Fixed operands (weights, the growing KV cache): products against them are exact in the ring,
// before and after rows are appended, in both orientations, one at a time and batched.
#include "protocols/common/fixed_operand_state.hpp"
#include "protocols/ops/share_layout.hpp"
#include "tests/protocols/backend_harness.hpp"

namespace protocols_test {
namespace {

class FixedOperands : public testing::TestWithParam<Backend> {};

TEST_P(FixedOperands, ProductsWithAFixedWeightAreExact) {
  const RingMatrix w = public_random(12, 5, 40);
  const RingMatrix x1 = public_random(1, 12, 41), x2 = public_random(6, 12, 42);
  std::array<std::array<RingMatrix, 3>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    const protocols::FixedOperand fw = p.fix(input_from(p, 0, w));
    got[p.mesh().self()][0] = p.reveal(p.matmul_fixed(input_from(p, 1, x1), fw), 1);
    got[p.mesh().self()][1] = p.reveal(p.matmul_fixed(input_from(p, 1, x2), fw), 1);
    got[p.mesh().self()][2] = p.reveal(fw.value.share(), 1);
  });
  EXPECT_EQ(got[1][0], RingMatrix(x1 * w));
  EXPECT_EQ(got[1][1], RingMatrix(x2 * w));
  EXPECT_EQ(got[1][2], w);
}

// The KV cache pattern: keys and values grow by one row per token; scores are q . K^T, the
// attention output p . V.
TEST_P(FixedOperands, AppendedRowsJoinBothProductOrientations) {
  const int d = 8;
  const RingMatrix prompt_k = public_random(5, d, 50), prompt_v = public_random(5, d, 51);
  const RingMatrix new_k = public_random(1, d, 52), new_v = public_random(1, d, 53), more_k = public_random(3, d, 54);
  const RingMatrix q = public_random(1, d, 55), probs = public_random(2, 6, 56);
  std::array<std::array<RingMatrix, 4>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    protocols::FixedOperand k = p.fix(input_from(p, 0, prompt_k));
    protocols::FixedOperand v = p.fix(input_from(p, 0, prompt_v));
    auto& out = got[p.mesh().self()];
    out[0] = p.reveal(p.matmul_fixed_transposed(input_from(p, 1, q), k), 1);
    protocols::FixedOperand* both[] = {&k, &v};
    const Share rows[] = {input_from(p, 1, new_k), input_from(p, 1, new_v)};
    p.append_rows(both, rows);
    out[1] = p.reveal(p.matmul_fixed_transposed(input_from(p, 1, q), k), 1);
    out[2] = p.reveal(p.matmul_fixed(input_from(p, 1, probs), v), 1);
    p.append_rows(k, input_from(p, 0, more_k));
    out[3] = p.reveal(p.matmul_fixed_transposed(input_from(p, 1, q), k), 1);
  });
  RingMatrix k6(6, d), v6(6, d), k9(9, d);
  k6 << prompt_k, new_k;
  v6 << prompt_v, new_v;
  k9 << k6, more_k;
  EXPECT_EQ(got[1][0], RingMatrix(q * prompt_k.transpose()));
  EXPECT_EQ(got[1][1], RingMatrix(q * k6.transpose()));
  EXPECT_EQ(got[1][2], RingMatrix(probs * v6));
  EXPECT_EQ(got[1][3], RingMatrix(q * k9.transpose()));
}

// A decode step's append and its scores in one call: the products read the grown keys, other
// grown operands (the values) take their rows too, and later products see them.
TEST_P(FixedOperands, AppendAndTransposedProductInOneCallReadTheGrownKeys) {
  const int d = 8;
  const RingMatrix prompt_k = public_random(5, d, 150), prompt_v = public_random(5, d, 151);
  const RingMatrix new_k = public_random(1, d, 152), new_v = public_random(1, d, 153);
  const RingMatrix q1 = public_random(1, d, 154), q2 = public_random(2, d, 155), probs = public_random(1, 6, 156);
  std::array<std::array<RingMatrix, 3>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    protocols::FixedOperand k = p.fix(input_from(p, 0, prompt_k));
    protocols::FixedOperand v = p.fix(input_from(p, 0, prompt_v));
    protocols::FixedOperand* grown[] = {&k, &v};
    const Share rows[] = {input_from(p, 1, new_k), input_from(p, 1, new_v)};
    const Share queries[] = {input_from(p, 1, q1), input_from(p, 1, q2)};
    const protocols::FixedOperand* keys[] = {&k, &k};
    const std::vector<Share> scores = p.append_rows_and_matmul_fixed_transposed(grown, rows, queries, keys);
    auto& out = got[p.mesh().self()];
    out[0] = p.reveal(scores[0], 1);
    out[1] = p.reveal(scores[1], 1);
    out[2] = p.reveal(p.matmul_fixed(input_from(p, 1, probs), v), 1);
  });
  RingMatrix k6(6, d), v6(6, d);
  k6 << prompt_k, new_k;
  v6 << prompt_v, new_v;
  EXPECT_EQ(got[1][0], RingMatrix(q1 * k6.transpose()));
  EXPECT_EQ(got[1][1], RingMatrix(q2 * k6.transpose()));
  EXPECT_EQ(got[1][2], RingMatrix(probs * v6));
}

// Where every matrix of a fixed operand lives: its value (the dealer: the mask) and the 2PC
// parties' opened value. 3PC and the dealer keep no state matrices.
std::vector<const mpc::u64*> storage_of(const Protocol& p, const protocols::FixedOperand& w) {
  std::vector<const mpc::u64*> at{w.value.first.data(), w.value.second.data()};
  if (p.backend() == Backend::TwoPartyDealer && p.role() != protocols::Role::Dealer)
    at.push_back(static_cast<const protocols::TwoPartyFixedState*>(w.state.get())->opened.data());
  return at;
}

// A decode step appends one row per head: within the capacity (grown when full) nothing moves,
// so an append copies only its own rows, never the cache; the products stay exact.
TEST_P(FixedOperands, AppendsWithinCapacityDoNotMoveTheCache) {
  const int d = 4;
  const RingMatrix prompt = public_random(4, d, 90), added = public_random(4, d, 91), q = public_random(1, d, 92);
  std::array<RingMatrix, kParties> got;
  std::array<bool, kParties> stayed{};
  run_backend(GetParam(), [&](Protocol& p) {
    protocols::FixedOperand k = p.fix(input_from(p, 0, prompt));
    const Share rows = input_from(p, 1, added);
    p.append_rows(k, protocols::ops::rows_of(rows, 0, 1));  // full: grows by its minimum step
    const auto before = storage_of(p, k);
    for (Eigen::Index r = 1; r < 4; ++r) p.append_rows(k, protocols::ops::rows_of(rows, r, 1));
    stayed[p.mesh().self()] = storage_of(p, k) == before && k.value.first.capacity() == 4 + mpc::GrowingRows<mpc::u64>::kMinGrowthRows;
    got[p.mesh().self()] = p.reveal(p.matmul_fixed_transposed(input_from(p, 1, q), k), 1);
  });
  RingMatrix all(8, d);
  all << prompt, added;
  for (int i = 0; i < kParties; ++i) EXPECT_TRUE(stayed[i]) << "party " << i;
  EXPECT_EQ(got[1], RingMatrix(q * all.transpose()));
}

// fix_bounded: operands larger than a round's budget are fixed in row blocks into storage reserved
// once, small ones share rounds; the products are those of fix().
TEST_P(FixedOperands, BoundedFixingSplitsLargeOperandsIntoRounds) {
  const std::array<RingMatrix, 3> ws = {public_random(37, 3, 70), public_random(2, 3, 71), public_random(1, 3, 72)};
  const RingMatrix x = public_random(2, 3, 73);
  std::array<std::vector<RingMatrix>, kParties> got;
  std::array<bool, kParties> reserved_once{};
  std::array<std::uint64_t, kParties> rounds{};
  run_backend(GetParam(), [&](Protocol& p) {
    std::vector<Share> sw;
    for (const RingMatrix& w : ws) sw.push_back(input_from(p, 0, w));
    const std::uint64_t before = p.mesh().stats().total().rounds;
    const auto fixed = p.fix_bounded(std::move(sw), 10 * 3 * sizeof(mpc::u64));  // 10 rows a round
    rounds[p.mesh().self()] = p.mesh().stats().total().rounds - before;
    reserved_once[p.mesh().self()] = fixed[0].value.first.capacity() == 37;
    const Share sx = input_from(p, 1, x);
    for (const auto& w : fixed) got[p.mesh().self()].push_back(p.reveal(p.matmul_fixed_transposed(sx, w), 1));
  });
  for (int i = 0; i < kParties; ++i) EXPECT_TRUE(reserved_once[i]) << "party " << i;
  if (GetParam() == Backend::TwoPartyDealer) EXPECT_EQ(rounds[0], 5u);  // 4 blocks of the large one, 1 for both small
  for (int i = 0; i < 3; ++i) EXPECT_EQ(got[1][i], RingMatrix(x * ws[i].transpose())) << "operand " << i;
}

TEST_P(FixedOperands, BatchedProductsAgainstSeveralOperandsAreExact) {
  const std::array<RingMatrix, 3> ws = {public_random(4, 4, 60), public_random(4, 9, 61), public_random(7, 4, 62)};
  const std::array<RingMatrix, 3> xs = {public_random(2, 4, 63), public_random(1, 4, 64), public_random(3, 4, 65)};
  std::array<std::vector<RingMatrix>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    std::vector<Share> sw, sx;
    for (int i = 0; i < 3; ++i) {
      sw.push_back(input_from(p, 0, ws[i]));
      sx.push_back(input_from(p, 1, xs[i]));
    }
    const auto fixed = p.fix(sw);
    const protocols::FixedOperand* plain[] = {&fixed[0], &fixed[1]};
    const protocols::FixedOperand* transposed[] = {&fixed[2]};
    for (const Share& z : p.matmul_fixed(std::span<const Share>(sx).first(2), plain))
      got[p.mesh().self()].push_back(p.reveal(z, 1));
    for (const Share& z : p.matmul_fixed_transposed(std::span<const Share>(sx).last(1), transposed))
      got[p.mesh().self()].push_back(p.reveal(z, 1));
  });
  EXPECT_EQ(got[1][0], RingMatrix(xs[0] * ws[0]));
  EXPECT_EQ(got[1][1], RingMatrix(xs[1] * ws[1]));
  EXPECT_EQ(got[1][2], RingMatrix(xs[2] * ws[2].transpose()));
}

TEST_P(FixedOperands, AppendingRowsOfTheWrongWidthIsRejected) {
  run_backend(GetParam(), [&](Protocol& p) {
    protocols::FixedOperand k = p.fix(input_from(p, 0, public_random(3, 4, 70)));
    EXPECT_THROW(p.append_rows(k, input_from(p, 0, public_random(1, 5, 71))), std::invalid_argument);
  });
}

INSTANTIATE_TEST_SUITE_P(Backends, FixedOperands,
                         testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated), backend_name);

}  // namespace
}  // namespace protocols_test
