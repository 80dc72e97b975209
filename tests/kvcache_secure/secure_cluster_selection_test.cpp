// The secure MPCache selection over real TLS sockets on both backends: boxes built at prefill and
// grown row by row, scores, hierarchical top-k and the one-hot gather agree with the plaintext
// reference (kvcache/cluster_selection.hpp) on random caches whose cluster scores are well apart.
#include "kvcache/secure/secure_cluster_selection.hpp"
#include "protocols/ops/share_layout.hpp"
#include "tests/protocols/backend_harness.hpp"

#include <algorithm>
#include <random>

namespace kvcache::secure {
namespace {

using mpc::FloatMatrix;
using mpc::RingMatrix;
using protocols::Backend;
using protocols::Protocol;
using protocols_test::input_from;
using protocols_test::run_session;

constexpr int kHeads = 2, kGroup = 2, kDim = 8;
// Plaintext scores closer than this could swap under fixed-point rounding: with 16 fraction bits,
// 8 channels and |q| <= 2 the secure scores are off by at most ~3e-4.
constexpr double kMinScoreGap = 2e-3;

struct Cache {
  std::vector<RingMatrix> keys, values, queries;  // encoded, per head
};

FloatMatrix uniform(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& gen) {
  std::uniform_real_distribution<double> dist(-1, 1);
  FloatMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

bool well_apart(std::vector<double> scores) {
  std::sort(scores.begin(), scores.end());
  for (std::size_t i = 1; i < scores.size(); ++i) {
    if (scores[i] - scores[i - 1] < kMinScoreGap) return false;
  }
  return true;
}

// Moves the keys of the first and of the last complete level-1 cluster towards the group's query
// sum, so that both win level 1 and the forced level-2 clusters 0 and C2-1 are among the children.
void favour_forced_parents(FloatMatrix& keys, const FloatMatrix& queries, const ClusterSelectionParams& params) {
  const Eigen::RowVectorXd shift = 4 * queries.colwise().sum().array().sign();
  const Eigen::Index last_parent = keys.rows() / params.size1 - 1;
  for (Eigen::Index first : {Eigen::Index{0}, last_parent * params.size1}) {
    for (Eigen::Index r = first; r < first + params.size1; ++r) keys.row(r) += shift;
  }
}

// Random keys, values and queries, redrawn until every head's level-1 and level-2 scores are
// distinct by a margin (the plaintext reference runs on the same quantised numbers).
Cache random_cache(int len, const ClusterSelectionParams& params, const mpc::FixedPoint& fp, bool favour_forced) {
  for (std::uint64_t seed = static_cast<std::uint64_t>(len); seed < static_cast<std::uint64_t>(len) + 100000; seed += 1000) {
    std::mt19937_64 gen(seed);
    Cache c;
    bool apart = true;
    for (int h = 0; h < kHeads; ++h) {
      FloatMatrix keys = uniform(len, kDim, gen);
      c.values.push_back(fp.encode(uniform(len, kDim, gen)));
      c.queries.push_back(fp.encode(uniform(kGroup, kDim, gen)));
      if (favour_forced) favour_forced_parents(keys, fp.decode(c.queries.back()), params);
      c.keys.push_back(fp.encode(keys));
      const FloatMatrix k = fp.decode(c.keys.back()), q = fp.decode(c.queries.back());
      apart = apart && well_apart(cluster_scores(k, q, params.size1, params.alpha)) &&
              well_apart(cluster_scores(k, q, params.size2, params.alpha));
    }
    if (apart) return c;
  }
  throw std::runtime_error("no random cache of " + std::to_string(len) + " rows with well separated scores");
}

std::vector<int> picked(const RingMatrix& one_hot) {
  std::vector<int> out;
  for (Eigen::Index r = 0; r < one_hot.rows(); ++r) {
    Eigen::Index at = 0;
    one_hot.row(r).maxCoeff(&at);
    out.push_back(static_cast<int>(at));
  }
  return out;
}

std::vector<int> sorted(std::vector<int> v) {
  std::sort(v.begin(), v.end());
  return v;
}

// Rows of `m`: cluster 0, the clusters in `chosen` order, then cluster C2-1 with the tail.
RingMatrix expected_rows(const RingMatrix& m, const ClusterSelectionShape& s, const std::vector<int>& chosen) {
  RingMatrix out(s.attending_rows(), m.cols());
  Eigen::Index at = 0;
  auto take = [&](Eigen::Index first, Eigen::Index count) {
    out.middleRows(at, count) = m.middleRows(first, count);
    at += count;
  };
  take(0, s.size2);
  for (int c : chosen) take(Eigen::Index{c} * s.size2, s.size2);
  take(Eigen::Index{s.last_cluster()} * s.size2, s.size2 + s.tail_rows());
  return out;
}

struct Revealed {
  std::vector<RingMatrix> level1, level2, keys, values, centres1, centres2;
};

// a * max + (1 - a) * min of every complete cluster of `size` rows.
FloatMatrix plain_centres(const FloatMatrix& keys, int size, double alpha) {
  FloatMatrix out(keys.rows() / size, keys.cols());
  for (Eigen::Index c = 0; c < out.rows(); ++c) {
    const auto block = keys.middleRows(c * size, size);
    out.row(c) = alpha * block.colwise().maxCoeff() + (1 - alpha) * block.colwise().minCoeff();
  }
  return out;
}

// Prefill boxes over the first `prefill` rows (built on shares, or adopted from P0's plaintext
// boxes), then one append per further row; select and gather.
Revealed run_selection(Backend backend, const Cache& cache, int prefill, const ClusterSelectionParams& params,
                       bool adopt) {
  const mpc::FixedPoint fp;
  Revealed got;
  run_session(backend, [&](protocols::Session& session) {
    Protocol& p = session.protocol();
    protocols::ops::SecureOps ops(session);
    std::vector<Share> keys, values, queries;
    for (int h = 0; h < kHeads; ++h) {
      keys.push_back(input_from(p, 0, cache.keys[h]));
      values.push_back(input_from(p, 0, cache.values[h]));
      queries.push_back(input_from(p, 1, cache.queries[h]));
    }
    std::vector<Share> prefix;
    for (const Share& k : keys) prefix.push_back(protocols::ops::rows_of(k, 0, prefill));
    SecureClusterBoxes boxes(ops, params, kHeads, kDim);
    if (adopt) {
      std::vector<PlainHeadBoxes> plain;
      for (const RingMatrix& k : cache.keys) plain.push_back(plain_head_boxes(fp.decode(k).topRows(prefill), params));
      boxes.adopt(0, prefill, plain);
    } else {
      boxes.initialize(prefix);
    }
    for (Eigen::Index r = prefill; r < keys.front().rows(); ++r) {
      std::vector<Share> row;
      for (const Share& k : keys) row.push_back(protocols::ops::rows_of(k, r, 1));
      boxes.append(row);
    }
    const std::vector<FixedOperand> key_ops = p.fix(keys), value_ops = p.fix(values);
    std::vector<const FixedOperand*> key_ptrs, value_ptrs;
    for (int h = 0; h < kHeads; ++h) {
      key_ptrs.push_back(&key_ops[h]);
      value_ptrs.push_back(&value_ops[h]);
    }
    SecureClusterSelector selector(ops);
    const SecureClusterChoice selection = selector.select(queries, boxes);
    const GatheredRows rows = selector.gather(selection, key_ptrs, value_ptrs);
    Revealed mine;
    for (const Share& s : selection.level1) mine.level1.push_back(p.reveal(s, protocols::kRevealToAll));
    for (const Share& s : selection.level2) mine.level2.push_back(p.reveal(s, protocols::kRevealToAll));
    for (const Share& s : rows.keys) mine.keys.push_back(p.reveal(s, protocols::kRevealToAll));
    for (const Share& s : rows.values) mine.values.push_back(p.reveal(s, protocols::kRevealToAll));
    for (int h = 0; h < kHeads && boxes.clusters1() > 0; ++h) {
      mine.centres1.push_back(p.reveal(boxes.centres1(h).value.share(), protocols::kRevealToAll));
      mine.centres2.push_back(p.reveal(boxes.centres2(h).value.share(), protocols::kRevealToAll));
    }
    if (p.mesh().self() == 0) got = std::move(mine);
  });
  return got;
}

struct Case {
  int len;
  int prefill;
  bool favour_forced = false;
  bool adopt = false;  // prefill boxes adopted from plaintext instead of built on shares
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << "len " << c.len << ", prefill " << c.prefill << (c.adopt ? ", adopted" : "");
}

class SecureClusterSelection : public testing::TestWithParam<std::tuple<Backend, Case>> {};

TEST_P(SecureClusterSelection, MatchesThePlaintextReference) {
  const auto [backend, c] = GetParam();
  const ClusterSelectionParams params;  // 32 / 16, ratios 0.5 / 0.2, alpha 0.6
  const mpc::FixedPoint fp;
  const Cache cache = random_cache(c.len, params, fp, c.favour_forced);
  const Revealed got = run_selection(backend, cache, c.prefill, params, c.adopt);
  ASSERT_EQ(got.keys.size(), static_cast<std::size_t>(kHeads));
  for (int h = 0; h < kHeads; ++h) {
    SCOPED_TRACE("head " + std::to_string(h));
    const FloatMatrix keys = fp.decode(cache.keys[h]);
    const ClusterSelection want = select_clusters(keys, fp.decode(cache.queries[h]), params);
    if (!got.centres1.empty()) {
      // Boxes are exact; the centre loses at most one truncation ulp.
      EXPECT_LE((fp.decode(got.centres1[h]) - plain_centres(keys, params.size1, params.alpha)).cwiseAbs().maxCoeff(), 1e-4);
      EXPECT_LE((fp.decode(got.centres2[h]) - plain_centres(keys, params.size2, params.alpha)).cwiseAbs().maxCoeff(), 1e-4);
    }
    if (!want.shape.selects) {
      EXPECT_TRUE(got.level1.empty());
      EXPECT_EQ(got.keys[h], cache.keys[h]);
      EXPECT_EQ(got.values[h], cache.values[h]);
      continue;
    }
    EXPECT_EQ(got.level1[h].rows(), want.shape.k1);
    EXPECT_EQ(sorted(picked(got.level1[h])), want.level1);
    const std::vector<int> chosen = picked(got.level2[h]);
    EXPECT_EQ(sorted(chosen), want.level2);
    if (c.favour_forced) {
      EXPECT_EQ(want.level2, (std::vector<int>{1, 8}));
    }
    // Gathering is a product with integers 0/1: the rows are the cached rows exactly.
    EXPECT_EQ(got.keys[h], expected_rows(cache.keys[h], want.shape, chosen));
    EXPECT_EQ(got.values[h], expected_rows(cache.values[h], want.shape, chosen));
  }
}

std::string case_name(const testing::TestParamInfo<std::tuple<Backend, Case>>& info) {
  const auto& [backend, c] = info.param;
  return protocols::to_string(backend) + "_len" + std::to_string(c.len) + "_prefill" + std::to_string(c.prefill) +
         (c.favour_forced ? "_forced_parents" : "") + (c.adopt ? "_adopted" : "");
}

INSTANTIATE_TEST_SUITE_P(
    Lengths, SecureClusterSelection,
    testing::Combine(testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                     testing::Values(Case{40, 40},     // C2 = 2: every row attends
                                     Case{100, 100},   // prefill only, 4 tail rows
                                     Case{50, 0},      // boxes grown from an empty cache, C2 = 3, C1 = 1
                                     Case{130, 90},    // appends close level-2 and level-1 clusters
                                     Case{330, 300},   // C2 = 20, k1 = 5, k2 = 4, 10 tail rows
                                     // Parents 0 and 4 win: children {0, 1, 8, 9}, of which 0 and 9
                                     // are forced, so k2 = 2 must pick exactly 1 and 8.
                                     Case{160, 160, true},
                                     // Adopted boxes: the same selections and centres as built on
                                     // shares, with open level-1 and level-2 clusters, then appends.
                                     Case{100, 100, false, true},
                                     Case{130, 90, false, true},
                                     Case{330, 300, false, true},
                                     Case{50, 0, false, true})),
    case_name);

TEST(SecureClusterBoxes, RejectsMismatchedHeadsAndRows) {
  std::array<int, protocols_test::kParties> rejected{};
  run_session(Backend::ThreePartyReplicated, [&](protocols::Session& session) {
    Protocol& p = session.protocol();
    protocols::ops::SecureOps ops(session);
    SecureClusterBoxes boxes(ops, ClusterSelectionParams{}, kHeads, kDim);
    const Share row = protocols::ops::zeros(p, 1, kDim), wide = protocols::ops::zeros(p, 1, kDim + 1);
    int thrown = 0;
    try {
      boxes.append(std::vector<Share>{row});
    } catch (const std::invalid_argument&) {
      ++thrown;
    }
    try {
      boxes.append(std::vector<Share>{wide, wide});
    } catch (const std::invalid_argument&) {
      ++thrown;
    }
    try {
      boxes.centres2(0);
    } catch (const std::logic_error&) {
      ++thrown;
    }
    rejected[p.mesh().self()] = thrown;
  });
  for (int r : rejected) EXPECT_EQ(r, 3);
}

}  // namespace
}  // namespace kvcache::secure
