// Protocol::group_rows: a fixed operand viewed at the granularity of row groups (key clusters) is
// gathered by one product with a secret one-hot, exactly, on both backends, also after rows were
// appended, and without any communication.
#include "tests/protocols/backend_harness.hpp"

namespace protocols_test {
namespace {

class GroupRows : public testing::TestWithParam<Backend> {};

// Row c: rows [c*g, (c+1)*g) of m side by side.
RingMatrix plain_groups(const RingMatrix& m, Eigen::Index g) {
  RingMatrix out(m.rows() / g, g * m.cols());
  for (Eigen::Index c = 0; c < out.rows(); ++c) {
    for (Eigen::Index r = 0; r < g; ++r) out.block(c, r * m.cols(), 1, m.cols()) = m.row(c * g + r);
  }
  return out;
}

RingMatrix one_hot(const std::vector<Eigen::Index>& picks, Eigen::Index n) {
  RingMatrix out = RingMatrix::Zero(static_cast<Eigen::Index>(picks.size()), n);
  for (std::size_t i = 0; i < picks.size(); ++i) out(static_cast<Eigen::Index>(i), picks[i]) = 1;
  return out;
}

TEST_P(GroupRows, OneHotProductGathersWholeGroupsExactly) {
  const int d = 3, g = 4;
  const RingMatrix prompt = public_random(10, d, 70), appended = public_random(3, d, 71);
  RingMatrix all(13, d);
  all << prompt, appended;
  const RingMatrix selection = one_hot({2, 0}, 3);  // 13 rows: 3 groups, row 12 left out
  std::array<std::array<RingMatrix, 2>, kParties> got;
  std::array<std::uint64_t, kParties> grouping_messages{};
  run_backend(GetParam(), [&](Protocol& p) {
    protocols::FixedOperand keys = p.fix(input_from(p, 0, prompt));
    p.append_rows(keys, input_from(p, 0, appended));
    const Share picks = input_from(p, 1, selection);
    const std::uint64_t sent_before = p.mesh().stats().total().messages_sent;
    const protocols::FixedOperand clusters = p.group_rows(keys, g);
    grouping_messages[p.mesh().self()] = p.mesh().stats().total().messages_sent - sent_before;
    got[p.mesh().self()][0] = p.reveal(clusters.value.share(), 1);
    got[p.mesh().self()][1] = p.reveal(p.matmul_fixed(picks, clusters), 1);
  });
  const RingMatrix groups = plain_groups(all, g);
  EXPECT_EQ(got[1][0], groups);
  EXPECT_EQ(got[1][1], RingMatrix(selection * groups));
  EXPECT_EQ(got[1][1].row(0), groups.row(2));
  for (std::uint64_t m : grouping_messages) EXPECT_EQ(m, 0u);
}

TEST_P(GroupRows, GroupedOperandsStillGrowAndMultiplyTransposed) {
  const int d = 2, g = 2;
  const RingMatrix w = public_random(6, d, 72), more = public_random(1, g * d, 73), q = public_random(1, g * d, 74);
  std::array<RingMatrix, kParties> got;
  run_backend(GetParam(), [&](Protocol& p) {
    protocols::FixedOperand grouped = p.group_rows(p.fix(input_from(p, 0, w)), g);
    p.append_rows(grouped, input_from(p, 0, more));
    got[p.mesh().self()] = p.reveal(p.matmul_fixed_transposed(input_from(p, 1, q), grouped), 1);
  });
  RingMatrix grown(4, g * d);
  grown << plain_groups(w, g), more;
  EXPECT_EQ(got[1], RingMatrix(q * grown.transpose()));
}

TEST_P(GroupRows, InvalidGroupSizesAreRejected) {
  std::array<int, kParties> rejected{};
  run_backend(GetParam(), [&](Protocol& p) {
    const protocols::FixedOperand w = p.fix(input_from(p, 0, public_random(4, 2, 75)));
    try {
      p.group_rows(w, 0);
    } catch (const std::invalid_argument&) {
      rejected[p.mesh().self()] = 1;
    }
    EXPECT_EQ(p.group_rows(w, 5).value.rows(), 0);
    EXPECT_THROW(p.group_rows(protocols::FixedOperand{}, 2), std::invalid_argument);
  });
  for (int r : rejected) EXPECT_EQ(r, 1);
}

INSTANTIATE_TEST_SUITE_P(Backends, GroupRows, testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         backend_name);

}  // namespace
}  // namespace protocols_test
