// Secure Quest over real TLS sockets on both backends against the plaintext policy
// (kvcache/quest.hpp): page boxes built at prefill (or adopted from plaintext) and grown row by
// row, the exact upper bound, the secret top-k of pages and the public current page. Random caches
// are redrawn until the competing pages' plaintext bounds are well apart.
#include "kvcache/secure/secure_quest.hpp"

#include "kvcache/quest.hpp"
#include "kvcache/selection_util.hpp"
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

constexpr int kKvHeads = 2, kGroup = 2, kQueryHeads = kKvHeads * kGroup, kDim = 8;
constexpr int kPageSize = 4, kBudget = 12;  // 3 pages attend: 2 chosen + the current one
// The secure bound is exact up to one truncation (~2e-5): bounds closer than this could swap.
constexpr double kMinBoundGap = 2e-3;

PolicyConfig quest_config() {
  PolicyConfig config;
  config.budget = Budget{1.0, kBudget};
  config.page_size = kPageSize;
  return config;
}

FloatMatrix uniform(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& gen) {
  std::uniform_real_distribution<double> dist(-1, 1);
  FloatMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

struct Cache {
  std::vector<FloatMatrix> keys, values;  // per kv head, on the fixed-point grid
  std::vector<FloatMatrix> queries;       // per query head, 1 x d
};

// The group-summed bounds of the pages that compete (all but the newest).
std::vector<double> competing_bounds(const FloatMatrix& keys, const std::vector<FloatMatrix>& queries, int g) {
  const int pages = static_cast<int>((keys.rows() + kPageSize - 1) / kPageSize);
  std::vector<double> bounds;
  for (int p = 0; p + 1 < pages; ++p) {
    const auto block = keys.middleRows(p * kPageSize, kPageSize);
    const Eigen::RowVectorXd max = block.colwise().maxCoeff(), min = block.colwise().minCoeff();
    double sum = 0;
    for (int h = g * kGroup; h < (g + 1) * kGroup; ++h) sum += box_upper_bound(queries[h].row(0), max, min);
    bounds.push_back(sum);
  }
  return bounds;
}

bool well_apart(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  for (std::size_t i = 1; i < v.size(); ++i) {
    if (v[i] - v[i - 1] < kMinBoundGap) return false;
  }
  return true;
}

Cache random_cache(int len) {
  const mpc::FixedPoint fp;
  auto grid = [&](const FloatMatrix& m) { return fp.decode(fp.encode(m)); };
  for (std::uint64_t seed = 1; seed < 1000; ++seed) {
    std::mt19937_64 gen(seed * 7919 + static_cast<std::uint64_t>(len));
    Cache c;
    for (int g = 0; g < kKvHeads; ++g) {
      c.keys.push_back(grid(uniform(len, kDim, gen)));
      c.values.push_back(grid(uniform(len, kDim, gen)));
    }
    for (int h = 0; h < kQueryHeads; ++h) c.queries.push_back(grid(uniform(1, kDim, gen)));
    bool apart = true;
    for (int g = 0; g < kKvHeads; ++g) apart = apart && well_apart(competing_bounds(c.keys[g], c.queries, g));
    if (apart) return c;
  }
  throw std::runtime_error("no random cache with well separated page bounds");
}

// The plaintext Quest's attending rows per kv head (empty optional: all rows).
kvcache::Selection plaintext_selection(const Cache& c) {
  const int len = static_cast<int>(c.keys.front().rows());
  QuestPolicy quest(quest_config());
  quest.begin(ModelShape{1, kQueryHeads, kKvHeads, kDim}, std::max(len, kBudget));
  LayerCache cache;
  for (int g = 0; g < kKvHeads; ++g) {
    HeadCache head;
    for (int r = 0; r < len; ++r) head.append(c.keys[g].row(r), c.values[g].row(r), r);
    cache.heads.push_back(head);
  }
  return quest.select(0, c.queries, cache);
}

const ModelShape kShape{1, kQueryHeads, kKvHeads, kDim};

// The first `rows` keys of a cache as a plaintext cache source hands them over (P0 knows them).
class PlaintextKeys final : public PromptStateSource {
 public:
  PlaintextKeys(const Cache& c, int rows, bool known) : cache_(c), rows_(rows), known_(known) {}
  int owner() const override { return 0; }
  bool known() const override { return known_; }
  int layers() const override { return 1; }
  int rows() const override { return rows_; }
  std::vector<PlainHeadBoxes> boxes(int, const ClusterSelectionParams& params) const override {
    std::vector<PlainHeadBoxes> heads;
    for (const FloatMatrix& k : cache_.keys) heads.push_back(plain_head_boxes(k.topRows(rows_), params));
    return heads;
  }
  std::vector<std::vector<double>> accumulated_scores(int) const override { return {}; }

 private:
  const Cache& cache_;
  int rows_;
  bool known_;
};

struct Revealed {
  Selection rows;  // public part as returned; chosen revealed below
  std::vector<RingMatrix> chosen, max2, min2;
};

// Prefill over the first `prefill` rows (boxes built on shares, or adopted from P0's plaintext),
// one on_append per further row, then one selection.
Revealed run_quest(Backend backend, const Cache& c, int prefill, bool adopt) {
  const mpc::FixedPoint fp;
  const int len = static_cast<int>(c.keys.front().rows());
  Revealed got;
  run_session(backend, [&](protocols::Session& session) {
    Protocol& p = session.protocol();
    protocols::ops::SecureOps ops(session);
    SecureQuest quest(ops, quest_config());
    if (adopt) quest.adopt_prompt_state(PlaintextKeys(c, prefill, p.mesh().self() == 0));
    quest.begin(kShape, std::max(len, kBudget));
    std::vector<Share> keys, values;
    for (int g = 0; g < kKvHeads; ++g) {
      keys.push_back(input_from(p, 0, fp.encode(c.keys[g])));
      values.push_back(input_from(p, 0, fp.encode(c.values[g])));
    }
    SecureLayerCache cache;
    for (int g = 0; g < kKvHeads; ++g) {
      cache.keys.push_back(p.fix(protocols::ops::rows_of(keys[g], 0, prefill)));
      cache.values.push_back(p.fix(protocols::ops::rows_of(values[g], 0, prefill)));
    }
    quest.on_prefill(0, {}, cache);
    for (int r = prefill; r < len; ++r) {
      std::vector<Share> key_rows;
      for (int g = 0; g < kKvHeads; ++g) {
        key_rows.push_back(protocols::ops::rows_of(keys[g], r, 1));
        p.append_rows(cache.keys[g], key_rows.back());
        p.append_rows(cache.values[g], protocols::ops::rows_of(values[g], r, 1));
      }
      quest.on_append(0, key_rows, cache);
    }
    std::vector<Share> queries;
    for (const FloatMatrix& q : c.queries) queries.push_back(input_from(p, 1, fp.encode(q)));
    Revealed mine;
    mine.rows = quest.select(0, queries, cache);
    for (const Share& s : mine.rows.chosen) mine.chosen.push_back(p.reveal(s, protocols::kRevealToAll));
    for (int g = 0; g < kKvHeads && quest.boxes(0).clusters2() > 0; ++g) {
      mine.max2.push_back(p.reveal(quest.boxes(0).max2(g).value.share(), protocols::kRevealToAll));
      mine.min2.push_back(p.reveal(quest.boxes(0).min2(g).value.share(), protocols::kRevealToAll));
    }
    if (p.mesh().self() == 0) got = std::move(mine);
  });
  return got;
}

// Columns of the ones of a one-hot, increasing.
std::vector<int> picked(const RingMatrix& one_hot) {
  std::vector<int> out;
  for (Eigen::Index r = 0; r < one_hot.rows(); ++r) {
    EXPECT_EQ(one_hot.row(r).cast<long double>().sum(), 1) << "row " << r << " is not one-hot";
    Eigen::Index at = 0;
    one_hot.row(r).maxCoeff(&at);
    out.push_back(static_cast<int>(at));
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct Case {
  int len;
  int prefill;
  bool adopt = false;
};

void PrintTo(const Case& c, std::ostream* os) { *os << "len " << c.len << ", prefill " << c.prefill; }

class SecureQuestSelection : public testing::TestWithParam<std::tuple<Backend, Case>> {};

TEST_P(SecureQuestSelection, MatchesThePlaintextPolicy) {
  const auto [backend, c] = GetParam();
  const mpc::FixedPoint fp;
  const Cache cache = random_cache(c.len);
  const kvcache::Selection want = plaintext_selection(cache);
  const Revealed got = run_quest(backend, cache, c.prefill, c.adopt);
  const int complete = c.len / kPageSize, current = (c.len - 1) / kPageSize;
  ASSERT_EQ(got.max2.size(), static_cast<std::size_t>(complete > 0 ? kKvHeads : 0));
  for (int g = 0; g < kKvHeads; ++g) {
    SCOPED_TRACE("head " + std::to_string(g));
    for (int p = 0; p < complete; ++p) {  // boxes are exact
      const auto block = cache.keys[g].middleRows(p * kPageSize, kPageSize);
      EXPECT_EQ(got.max2[g].row(p), fp.encode(FloatMatrix(block.colwise().maxCoeff())).row(0));
      EXPECT_EQ(got.min2[g].row(p), fp.encode(FloatMatrix(block.colwise().minCoeff())).row(0));
    }
    if (!want.rows[g]) {
      EXPECT_TRUE(got.rows.all);
      continue;
    }
    ASSERT_FALSE(got.rows.all);
    EXPECT_EQ(got.rows.group_size, kPageSize);
    EXPECT_EQ(got.rows.public_rows, index_range(current * kPageSize, c.len));
    ASSERT_EQ(got.chosen[g].cols(), complete);  // the engine's groups: every complete page
    std::vector<int> want_pages;
    for (int row : *want.rows[g]) {
      if (row / kPageSize != current && (want_pages.empty() || want_pages.back() != row / kPageSize))
        want_pages.push_back(row / kPageSize);
    }
    EXPECT_EQ(picked(got.chosen[g]), want_pages);
    EXPECT_EQ(got.rows.attended(c.len), static_cast<int>(want.rows[g]->size()));
  }
}

std::string case_name(const testing::TestParamInfo<std::tuple<Backend, Case>>& info) {
  const auto& [backend, c] = info.param;
  return protocols::to_string(backend) + "_len" + std::to_string(c.len) + "_prefill" + std::to_string(c.prefill) +
         (c.adopt ? "_adopted" : "");
}

INSTANTIATE_TEST_SUITE_P(
    Lengths, SecureQuestSelection,
    testing::Combine(testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                     testing::Values(Case{12, 12},        // 3 pages: every row attends
                                     Case{30, 30},        // 8 pages, the current one partial
                                     Case{20, 17},        // appends complete pages; the current page is complete
                                     Case{23, 0},         // boxes grown from an empty cache
                                     Case{26, 21, true},  // adopted boxes with an open page, then appends
                                     Case{24, 24, true})),
    case_name);

template <typename Error>
bool throws(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error&) {
    return true;
  }
  return false;
}

TEST(SecureQuest, RejectsBadInputs) {
  std::array<int, protocols_test::kParties> rejected{};
  run_session(Backend::ThreePartyReplicated, [&](protocols::Session& session) {
    Protocol& p = session.protocol();
    protocols::ops::SecureOps ops(session);
    int count = 0;
    count += throws<std::invalid_argument>([&] { SecureQuest(ops, quest_config()).begin(kShape, 0); });
    PolicyConfig zero_page = quest_config();
    zero_page.page_size = 0;
    count += throws<std::invalid_argument>([&] { SecureQuest(ops, zero_page); });
    SecureQuest quest(ops, quest_config());
    quest.begin(kShape, 16);
    SecureLayerCache cache{p.fix(std::vector<Share>(kKvHeads, protocols::ops::zeros(p, 16, kDim))),
                           p.fix(std::vector<Share>(kKvHeads, protocols::ops::zeros(p, 16, kDim)))};
    const std::vector<Share> queries(kQueryHeads, protocols::ops::zeros(p, 1, kDim));
    count += throws<std::logic_error>([&] { quest.select(0, queries, cache); });  // no prefill yet
    quest.on_prefill(0, {}, cache);
    count += throws<std::invalid_argument>([&] { quest.select(0, std::span(queries).first(1), cache); });
    const std::vector<Share> wide(kQueryHeads, protocols::ops::zeros(p, 1, kDim + 1));
    count += throws<std::invalid_argument>([&] { quest.select(0, wide, cache); });
    SecureClusterBoxes boxes(ops, quest.page_params(), kKvHeads, kDim, SecureQuest::box_options());
    const std::vector<PlainHeadBoxes> one_head(1);
    count += throws<std::invalid_argument>([&] { boxes.adopt(p.mesh().self(), 16, one_head); });
    rejected[p.mesh().self()] = count;
  });
  for (int r : rejected) EXPECT_EQ(r, 6);
}

}  // namespace
}  // namespace kvcache::secure
