// Operators on an open session, on real parties over TLS: constructing them talks to no one, and
// several of them on one session (which share its boolean backend and FSS key dealing) give exact
// results used in turn.
#include "protocols/ops/secure_ops.hpp"
#include "tests/protocols/backend_harness.hpp"

#include <gtest/gtest.h>

#include <array>
#include <string>

namespace ops_test {
namespace {

using protocols::Backend;
using protocols::Comparisons;
using protocols::Share;
using protocols::ops::SecureOps;
using mpc::RingMatrix;

constexpr int kParties = 3;

struct Setting {
  Backend backend;
  Comparisons comparisons;
};

class SessionOps : public ::testing::TestWithParam<Setting> {
 protected:
  void run(const std::function<void(protocols::Session&)>& body) const {
    protocols_test::run_session(GetParam().backend, body, {.config = "session ops", .comparisons = GetParam().comparisons});
  }
};

void expect_same_traffic(const net::Counters& before, const net::Counters& after, int party) {
  EXPECT_EQ(after.bytes_sent, before.bytes_sent) << "party " << party;
  EXPECT_EQ(after.bytes_received, before.bytes_received) << "party " << party;
  EXPECT_EQ(after.messages_sent, before.messages_sent) << "party " << party;
  EXPECT_EQ(after.messages_received, before.messages_received) << "party " << party;
  EXPECT_EQ(after.rounds, before.rounds) << "party " << party;
}

TEST_P(SessionOps, ConstructingOperatorsSendsAndReceivesNothing) {
  std::array<net::Counters, kParties> opened{}, constructed{};
  std::array<bool, kParties> has_key_dealing{};
  run([&](protocols::Session& session) {
    const int self = session.protocol().mesh().self();
    opened[self] = session.protocol().mesh().stats().total();
    SecureOps first(session);
    SecureOps second(session, {.tournament_arity = 8});
    constructed[self] = session.protocol().mesh().stats().total();
    has_key_dealing[self] = session.key_dealing() != nullptr;
  });
  for (int party = 0; party < kParties; ++party) {
    EXPECT_GT(opened[party].messages_sent + opened[party].messages_received, 0u) << "the session's set-up is missing";
    expect_same_traffic(opened[party], constructed[party], party);
    EXPECT_EQ(has_key_dealing[party], GetParam().comparisons == Comparisons::fss) << "party " << party;
  }
}

// Comparisons, max and argmax alternate between two operator sets drawing from the same boolean
// backend and key dealing (the second with another tournament arity): every result is exact.
TEST_P(SessionOps, TwoOperatorSetsOnOneSessionAreExactInTurn) {
  const mpc::FixedPoint fp;
  const mpc::FloatMatrix x = protocols_test::public_reals(3, 21, 40.0, 7);
  const RingMatrix encoded = fp.encode(x);
  std::array<RingMatrix, 4> opened;
  run([&](protocols::Session& session) {
    protocols::Protocol& p = session.protocol();
    SecureOps first(session), second(session, {.tournament_arity = 2});
    const Share xs = protocols_test::input_from(p, 0, encoded);
    const Share results[] = {first.less_than_zero(xs), second.max(xs), first.argmax(xs).one_hot,
                             second.less_than_zero(xs)};
    for (std::size_t i = 0; i < opened.size(); ++i) {
      RingMatrix value = p.reveal(results[i], protocols::kRevealToAll);
      if (p.mesh().self() == 0) opened[i] = std::move(value);
    }
  });
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    Eigen::Index best = 0;
    x.row(r).maxCoeff(&best);
    EXPECT_EQ(opened[1](r, 0), encoded(r, best)) << "max of row " << r;
    for (Eigen::Index j = 0; j < x.cols(); ++j) {
      const mpc::u64 negative = x(r, j) < 0 ? 1 : 0;
      EXPECT_EQ(opened[0](r, j), negative) << "first sign " << r << ", " << j;
      EXPECT_EQ(opened[3](r, j), negative) << "second sign " << r << ", " << j;
      EXPECT_EQ(opened[2](r, j), j == best ? 1u : 0u) << "argmax " << r << ", " << j;
    }
  }
}

std::string setting_name(const testing::TestParamInfo<Setting>& info) {
  return protocols::to_string(info.param.backend) + "_" + protocols::to_string(info.param.comparisons);
}

INSTANTIATE_TEST_SUITE_P(Settings, SessionOps,
                         testing::Values(Setting{Backend::TwoPartyDealer, Comparisons::boolean},
                                         Setting{Backend::TwoPartyDealer, Comparisons::fss},
                                         Setting{Backend::ThreePartyReplicated, Comparisons::boolean},
                                         Setting{Backend::ThreePartyReplicated, Comparisons::fss}),
                         setting_name);

}  // namespace
}  // namespace ops_test
