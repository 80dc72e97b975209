// Communication cost, read from the mesh accounting: rounds per operation (never dependent on sizes
// or on how many tensors are batched), exact online bytes of products with fixed operands, and the
// dealer's one-way traffic.
#include "net/frame.hpp"
#include "tests/protocols/backend_harness.hpp"

#include <map>

namespace protocols_test {
namespace {

using Rounds = std::map<std::string, std::uint64_t>;
constexpr std::uint64_t kElement = sizeof(mpc::u64);

// Runs every interactive operation in its own phase, on tensors of size `n`, batched `batch` times.
Rounds rounds_per_operation(Protocol& p, Eigen::Index n, int batch) {
  auto& stats = p.mesh().stats();
  auto phase = [&](const char* name, auto&& op) {
    net::PhaseScope scope(stats, name);
    op();
  };
  std::vector<Share> xs, ws, rows;
  phase("input", [&] { xs.push_back(input_from(p, 0, public_random(n, n, 110))); });
  for (int i = 1; i < batch; ++i) xs.push_back(input_from(p, 0, public_random(n, n, 110)));
  for (int i = 0; i < batch; ++i) {
    ws.push_back(input_from(p, 1, public_random(n, n, 111)));
    rows.push_back(input_from(p, 1, public_random(1, n, 112)));
  }
  std::vector<protocols::FixedOperand> fixed;
  std::vector<protocols::FixedOperand*> fixed_ptrs;
  std::vector<const protocols::FixedOperand*> fixed_const;
  phase("mul", [&] { p.mul(xs, ws); });
  phase("matmul", [&] { p.matmul(xs, ws); });
  phase("fix", [&] { fixed = p.fix(ws); });
  for (auto& f : fixed) {
    fixed_ptrs.push_back(&f);
    fixed_const.push_back(&f);
  }
  phase("matmul_fixed", [&] { p.matmul_fixed(xs, fixed_const); });
  phase("append_rows", [&] { p.append_rows(fixed_ptrs, rows); });
  phase("matmul_fixed_transposed", [&] { p.matmul_fixed_transposed(xs, fixed_const); });
  phase("append_rows_and_matmul_fixed_transposed",
        [&] { p.append_rows_and_matmul_fixed_transposed(fixed_ptrs, rows, xs, fixed_const); });
  phase("truncate", [&] { p.truncate(xs, 16); });
  phase("reveal", [&] { p.reveal(xs.front(), protocols::kRevealToAll); });
  Rounds out;
  for (const char* name : {"input", "mul", "matmul", "fix", "append_rows", "matmul_fixed", "matmul_fixed_transposed",
                           "append_rows_and_matmul_fixed_transposed", "truncate", "reveal"})
    out[name] = stats.rounds(name);
  return out;
}

class Costs : public testing::TestWithParam<Backend> {};

TEST_P(Costs, RoundsPerOperationDoNotDependOnSizeOrBatch) {
  std::array<std::array<Rounds, 3>, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    got[p.mesh().self()][0] = rounds_per_operation(p, 2, 1);
    p.mesh().stats().reset();
    got[p.mesh().self()][1] = rounds_per_operation(p, 40, 1);
    p.mesh().stats().reset();
    got[p.mesh().self()][2] = rounds_per_operation(p, 9, 3);
  });
  const bool two_party = GetParam() == Backend::TwoPartyDealer;
  for (int party = 0; party < kParties; ++party) {
    EXPECT_EQ(got[party][0], got[party][1]) << "party " << party << ": rounds depend on the tensor size";
    EXPECT_EQ(got[party][0], got[party][2]) << "party " << party << ": rounds depend on the batch size";
  }
  const Rounds& p0 = got[0][0];
  if (two_party) {
    const Rounds want{{"input", 0},        {"mul", 1},          {"matmul", 1},
                      {"fix", 1},          {"append_rows", 1},  {"matmul_fixed", 1},
                      {"matmul_fixed_transposed", 1}, {"append_rows_and_matmul_fixed_transposed", 1},
                      {"truncate", 1}, {"reveal", 1}};
    EXPECT_EQ(p0, want);
    EXPECT_EQ(got[1][0], want);
    for (const auto& [op, rounds] : got[2][0]) EXPECT_EQ(rounds, 0u) << "the dealer takes part in no round: " << op;
  } else {
    const Rounds want{{"input", 1},        {"mul", 1},          {"matmul", 1},
                      {"fix", 0},          {"append_rows", 0},  {"matmul_fixed", 1},
                      {"matmul_fixed_transposed", 1}, {"append_rows_and_matmul_fixed_transposed", 1},
                      {"truncate", 2}, {"reveal", 1}};
    EXPECT_EQ(p0, want);
    EXPECT_EQ(got[1][0].at("truncate"), 2u);
    EXPECT_EQ(got[2][0].at("truncate"), 1u) << "the helper only sends in the first round";
    EXPECT_EQ(got[1][0].at("input"), 0u) << "the party after the owner receives nothing";
    EXPECT_EQ(got[2][0].at("input"), 1u);
  }
}

// The online traffic of x . W against a fixed W is the masked activation only: the same bytes for a
// narrow and a wide W, and for the transposed product.
TEST_P(Costs, OnlineBytesOfFixedProductsFollowTheActivationOnly) {
  const Eigen::Index m = 3, k = 24;
  struct Sent {
    std::uint64_t narrow = 0, wide = 0, transposed = 0, offline_received = 0;
  };
  std::array<Sent, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    auto& stats = p.mesh().stats();
    const Share x = input_from(p, 1, public_random(m, k, 120));
    const auto narrow = p.fix(input_from(p, 0, public_random(k, 4, 121)));
    const auto wide = p.fix(input_from(p, 0, public_random(k, 400, 122)));
    const auto keys = p.fix(input_from(p, 0, public_random(50, k, 123)));
    const auto offline_before = stats.phase_total(protocols::kOfflinePhase).bytes_received;
    auto sent_in = [&](const char* name, auto&& op) {
      {
        net::PhaseScope scope(stats, name);
        op();
      }
      return stats.phase_total(name).bytes_sent;
    };
    Sent& s = got[p.mesh().self()];
    s.narrow = sent_in("narrow", [&] { p.matmul_fixed(x, narrow); });
    s.offline_received = stats.phase_total(protocols::kOfflinePhase).bytes_received - offline_before;
    s.wide = sent_in("wide", [&] { p.matmul_fixed(x, wide); });
    s.transposed = sent_in("transposed", [&] { p.matmul_fixed_transposed(x, keys); });
  });
  if (GetParam() == Backend::TwoPartyDealer) {
    const std::uint64_t masked_x = m * k * kElement + net::kFrameHeaderBytes;
    for (int party : {0, 1}) {
      EXPECT_EQ(got[party].narrow, masked_x) << "party " << party;
      EXPECT_EQ(got[party].wide, masked_x) << "party " << party;
      EXPECT_EQ(got[party].transposed, masked_x) << "party " << party;
    }
    EXPECT_EQ(got[2].narrow, 0u);
    // P1's share of C = A . B (m x n) is the only correction.
    EXPECT_EQ(got[1].offline_received, m * 4 * kElement + net::kFrameHeaderBytes);
    EXPECT_EQ(got[0].offline_received, 0u);
  } else {
    // Replicated products send one component of the output to one party.
    for (int party = 0; party < kParties; ++party) {
      EXPECT_EQ(got[party].narrow, m * 4 * kElement + net::kFrameHeaderBytes);
      EXPECT_EQ(got[party].wide, m * 400 * kElement + net::kFrameHeaderBytes);
      EXPECT_EQ(got[party].transposed, m * 50 * kElement + net::kFrameHeaderBytes);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, Costs, testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         backend_name);

// The dealer only ever sends: after set-up it receives nothing, and it sends nothing to P0.
TEST(DealerTraffic, DealerReceivesNothingAfterSetupAndTalksOnlyToP1) {
  net::Stats dealer_stats;
  run_backend(Backend::TwoPartyDealer, [&](Protocol& p) {
    rounds_per_operation(p, 6, 2);
    if (p.role() == protocols::Role::Dealer) dealer_stats = p.mesh().stats();
  });
  std::uint64_t offline_to_p1 = 0;
  for (const auto& [phase, peers] : dealer_stats.by_phase_and_peer()) {
    for (const auto& [peer, c] : peers) {
      if (phase == "setup") continue;
      EXPECT_EQ(c.bytes_received, 0u) << "phase " << phase << ", from party " << peer;
      EXPECT_EQ(c.messages_received, 0u) << "phase " << phase << ", from party " << peer;
      EXPECT_EQ(phase, protocols::kOfflinePhase) << "dealer traffic must be accounted as offline";
      EXPECT_EQ(peer, 1) << "P0 expands its correlations from its seed";
      if (peer == 1) offline_to_p1 += c.bytes_sent;
    }
  }
  EXPECT_GT(offline_to_p1, 0u);
}

}  // namespace
}  // namespace protocols_test
