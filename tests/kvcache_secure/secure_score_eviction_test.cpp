// Secure H2O and TOVA over real TLS sockets on both backends, step by step against the plaintext
// policies (kvcache/h2o.hpp, kvcache/tova.hpp) fed the same quantised numbers. Decode-step scores
// are sums of fixed-point probabilities, exact on shares and exact in double (H2O's adopted prompt
// scores aside: rounded once to the grid), so the evicted rows and the compacted cache must match
// exactly, ties included (the "coarse" cases draw probabilities from a handful of values to force
// ties among the generated rows).
#include "kvcache/secure/secure_score_eviction.hpp"

#include "kvcache/attention.hpp"
#include "kvcache/h2o.hpp"
#include "kvcache/tova.hpp"
#include "protocols/ops/share_layout.hpp"
#include "tests/protocols/backend_harness.hpp"

#include <cmath>
#include <memory>
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
constexpr int kBudget = 8, kRecent = 2, kSteps = 5;
// Prompt scores summed from fixed-point probabilities: at most one 2^-16 step per summand (a
// score sums kGroup heads x kBudget queries; the bound counts all query heads, twice that).
constexpr double kSummedRounding = kQueryHeads * kBudget * 1.0 / (1 << 16);
// The adopted prefill scores are the plaintext ones rounded to the fixed-point grid (2^-17 at most);
// everything added afterwards is exact.
constexpr double kAdoptedRounding = 1e-5;

FloatMatrix uniform(Eigen::Index rows, Eigen::Index cols, std::mt19937_64& gen, double range = 1.0) {
  std::uniform_real_distribution<double> dist(-range, range);
  FloatMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

// Values already on the fixed-point grid, so plaintext and shares see the same numbers.
FloatMatrix quantised(const FloatMatrix& m) {
  const mpc::FixedPoint fp;
  return fp.decode(fp.encode(m));
}

// Attention-like rows over `rows` cached rows: a softmax of random logits, or (coarse) multiples of
// 1/8 in [0, 1/2], which makes equal scores common.
Eigen::RowVectorXd observed_probs(int rows, bool coarse, std::mt19937_64& gen) {
  Eigen::RowVectorXd p(rows);
  if (coarse) {
    std::uniform_int_distribution<int> level(0, 4);
    for (int i = 0; i < rows; ++i) p[i] = level(gen) / 8.0;
    return p;
  }
  const FloatMatrix logits = uniform(1, rows, gen, 3.0);
  p = logits.row(0).array().exp();
  return quantised(p / p.sum()).row(0);
}

struct Scenario {
  std::vector<FloatMatrix> prompt_keys, prompt_values;        // per kv head, budget x d
  std::vector<FloatMatrix> prompt_queries;                     // per query head, budget x d (unscaled)
  std::vector<std::vector<FloatMatrix>> step_keys, step_values;  // [step][kv head] 1 x d
  std::vector<std::vector<Eigen::RowVectorXd>> step_probs;     // [step][query head] 1 x (budget + 1)
};

Scenario random_scenario(bool coarse, std::uint64_t seed) {
  std::mt19937_64 gen(seed);
  Scenario s;
  for (int g = 0; g < kKvHeads; ++g) {
    s.prompt_keys.push_back(quantised(uniform(kBudget, kDim, gen)));
    s.prompt_values.push_back(quantised(uniform(kBudget, kDim, gen)));
  }
  for (int h = 0; h < kQueryHeads; ++h) s.prompt_queries.push_back(quantised(uniform(kBudget, kDim, gen)));
  s.step_keys.resize(kSteps);
  s.step_values.resize(kSteps);
  s.step_probs.resize(kSteps);
  for (int t = 0; t < kSteps; ++t) {
    for (int g = 0; g < kKvHeads; ++g) {
      s.step_keys[t].push_back(quantised(uniform(1, kDim, gen)));
      s.step_values[t].push_back(quantised(uniform(1, kDim, gen)));
    }
    for (int h = 0; h < kQueryHeads; ++h) s.step_probs[t].push_back(observed_probs(kBudget + 1, coarse, gen));
  }
  return s;
}

PolicyConfig test_config() {
  PolicyConfig config;
  config.budget = Budget{1.0, kBudget};
  config.recent_window = kRecent;
  return config;
}

// The plaintext run: per step, the compacted cache (keys, values per kv head) and H2O's scores.
struct Trace {
  std::vector<std::vector<FloatMatrix>> keys, values;        // [step][kv head]
  std::vector<std::vector<std::vector<double>>> scores;      // [step][kv head], H2O only
  std::vector<std::vector<double>> prefill_scores;           // [kv head], H2O only
};

Trace plaintext_trace(ScoreRule rule, const Scenario& s) {
  std::unique_ptr<CachePolicy> policy;
  H2oPolicy* h2o = nullptr;
  if (rule == ScoreRule::Accumulated) {
    auto p = std::make_unique<H2oPolicy>(test_config());
    h2o = p.get();
    policy = std::move(p);
  } else {
    policy = std::make_unique<TovaPolicy>(test_config());
  }
  policy->begin(ModelShape{1, kQueryHeads, kKvHeads, kDim}, kBudget);
  LayerCache cache;
  for (int g = 0; g < kKvHeads; ++g) {
    HeadCache head;
    for (int r = 0; r < kBudget; ++r) head.append(s.prompt_keys[g].row(r), s.prompt_values[g].row(r), r);
    cache.heads.push_back(head);
  }
  policy->on_prefill(0, s.prompt_queries, cache);
  Trace trace;
  if (h2o) {
    for (int g = 0; g < kKvHeads; ++g) trace.prefill_scores.push_back(h2o->scores(0, g));
  }
  for (int t = 0; t < kSteps; ++t) {
    for (int g = 0; g < kKvHeads; ++g)
      cache.heads[g].append(s.step_keys[t][g].row(0), s.step_values[t][g].row(0), kBudget + t);
    policy->on_append(0, cache);
    policy->on_attention(0, s.step_probs[t], kvcache::Selection::all(kKvHeads), cache);
    trace.keys.emplace_back();
    trace.values.emplace_back();
    trace.scores.emplace_back();
    for (int g = 0; g < kKvHeads; ++g) {
      trace.keys.back().push_back(cache.heads[g].keys);
      trace.values.back().push_back(cache.heads[g].values);
      if (h2o) trace.scores.back().push_back(h2o->scores(0, g));
    }
  }
  return trace;
}

struct Revealed {
  std::vector<RingMatrix> prefill_scores;                   // [kv head]
  std::vector<std::vector<RingMatrix>> keys, values, scores;  // [step][kv head]
};

SecureLayerCache shared_prompt_cache(Protocol& p, const Scenario& s, const mpc::FixedPoint& fp) {
  std::vector<Share> keys, values;
  for (int g = 0; g < kKvHeads; ++g) {
    keys.push_back(input_from(p, 0, fp.encode(s.prompt_keys[g])));
    values.push_back(input_from(p, 0, fp.encode(s.prompt_values[g])));
  }
  return SecureLayerCache{p.fix(keys), p.fix(values)};
}

const ModelShape kShape{1, kQueryHeads, kKvHeads, kDim};

// The plaintext prefill's H2O scores as a cache source hands them over: P0 knows them.
class PlaintextScores final : public PromptStateSource {
 public:
  PlaintextScores(const Trace& plain, bool known) : plain_(plain), known_(known) {}
  int owner() const override { return 0; }
  bool known() const override { return known_; }
  int layers() const override { return 1; }
  int rows() const override { return kBudget; }
  std::vector<PlainHeadBoxes> boxes(int, const ClusterSelectionParams&) const override { return {}; }
  std::vector<std::vector<double>> accumulated_scores(int) const override { return plain_.prefill_scores; }

 private:
  const Trace& plain_;
  bool known_;
};

void run_step(Protocol& p, SecureScoreEviction& policy, SecureLayerCache& cache, const Scenario& s, int t,
              const mpc::FixedPoint& fp) {
  std::vector<Share> key_rows;
  for (int g = 0; g < kKvHeads; ++g) {
    key_rows.push_back(input_from(p, 1, fp.encode(s.step_keys[t][g])));
    p.append_rows(cache.keys[g], key_rows.back());
    p.append_rows(cache.values[g], input_from(p, 1, fp.encode(s.step_values[t][g])));
  }
  policy.on_append(0, key_rows, cache);
  EXPECT_TRUE(policy.select(0, {}, cache).all);
  std::vector<Share> probs;
  for (int h = 0; h < kQueryHeads; ++h) probs.push_back(input_from(p, 1, fp.encode(FloatMatrix(s.step_probs[t][h]))));
  policy.on_attention(0, probs, cache);
}

std::vector<RingMatrix> reveal_all(Protocol& p, const std::vector<Share>& shares) {
  std::vector<RingMatrix> out;
  for (const Share& s : shares) out.push_back(p.reveal(s, protocols::kRevealToAll));
  return out;
}

Revealed run_secure(Backend backend, ScoreRule rule, const Scenario& s, const Trace& plain) {
  Revealed got;
  const mpc::FixedPoint fp;
  run_session(backend, [&](protocols::Session& session) {
    Protocol& p = session.protocol();
    protocols::ops::SecureOps ops(session);
    SecureScoreEviction policy(ops, rule, test_config());
    policy.adopt_prompt_state(PlaintextScores(plain, p.mesh().self() == 0));
    policy.begin(kShape, kBudget);
    SecureLayerCache cache = shared_prompt_cache(p, s, fp);
    policy.on_prefill(0, {}, cache);
    Revealed mine;
    for (int t = 0; t < kSteps; ++t) {
      run_step(p, policy, cache, s, t, fp);
      std::vector<Share> keys, values;
      for (int g = 0; g < kKvHeads; ++g) {
        keys.push_back(cache.keys[g].value.share());
        values.push_back(cache.values[g].value.share());
      }
      mine.keys.push_back(reveal_all(p, keys));
      mine.values.push_back(reveal_all(p, values));
      if (rule == ScoreRule::Accumulated) mine.scores.push_back(reveal_all(p, policy.scores(0)));
    }
    if (p.mesh().self() == 0) got = std::move(mine);
  });
  return got;
}

struct Case {
  ScoreRule rule;
  bool coarse;
};

void PrintTo(const Case& c, std::ostream* os) {
  *os << (c.rule == ScoreRule::Accumulated ? "h2o" : "tova") << (c.coarse ? ", tied probabilities" : ", softmax rows");
}

class SecureScoreEvictionSteps : public testing::TestWithParam<std::tuple<Backend, Case>> {};

TEST_P(SecureScoreEvictionSteps, MatchThePlaintextPolicyEveryStep) {
  const auto [backend, c] = GetParam();
  const mpc::FixedPoint fp;
  const Scenario s = random_scenario(c.coarse, c.coarse ? 11 : 7);
  const Trace plain = plaintext_trace(c.rule, s);
  const Revealed got = run_secure(backend, c.rule, s, plain);
  ASSERT_EQ(got.keys.size(), static_cast<std::size_t>(kSteps));
  for (int t = 0; t < kSteps; ++t) {
    for (int g = 0; g < kKvHeads; ++g) {
      SCOPED_TRACE("step " + std::to_string(t) + ", head " + std::to_string(g));
      // The compaction is a product with integers 0/1: rows are the kept rows exactly.
      EXPECT_EQ(got.keys[t][g], fp.encode(plain.keys[t][g]));
      EXPECT_EQ(got.values[t][g], fp.encode(plain.values[t][g]));
      if (c.rule != ScoreRule::Accumulated) continue;
      const FloatMatrix scores = fp.decode(got.scores[t][g]);
      ASSERT_EQ(scores.cols(), kBudget);
      for (int r = 0; r < kBudget; ++r) EXPECT_NEAR(scores(0, r), plain.scores[t][g][r], kAdoptedRounding) << "row " << r;
    }
  }
}

std::string case_name(const testing::TestParamInfo<std::tuple<Backend, Case>>& info) {
  const auto& [backend, c] = info.param;
  return protocols::to_string(backend) + (c.rule == ScoreRule::Accumulated ? "_h2o" : "_tova") +
         (c.coarse ? "_ties" : "_softmax");
}

INSTANTIATE_TEST_SUITE_P(Policies, SecureScoreEvictionSteps,
                         testing::Combine(testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                                          testing::Values(Case{ScoreRule::Accumulated, false},
                                                          Case{ScoreRule::Accumulated, true},
                                                          Case{ScoreRule::Current, false},
                                                          Case{ScoreRule::Current, true})),
                         case_name);

// A private prefill: H2O scores every prompt row by the causal attention of all prompt queries,
// summed from the probabilities the prompt pass hands it (here the plaintext ones, input as
// shares: the sums are exact, only the fixed-point rounding of each probability remains).
class SecureH2oPrefill : public testing::TestWithParam<Backend> {};

// Stacked causal attention of every query head over its key/value head (heads * n x n).
FloatMatrix prompt_probabilities(const Scenario& s) {
  std::vector<int> positions(kBudget);
  for (int i = 0; i < kBudget; ++i) positions[i] = i;
  FloatMatrix stacked(Eigen::Index{kQueryHeads} * kBudget, kBudget);
  for (int h = 0; h < kQueryHeads; ++h)
    stacked.middleRows(Eigen::Index{h} * kBudget, kBudget) =
        kvcache::causal_attention_probs(s.prompt_queries[h], positions, s.prompt_keys[h / kGroup], positions);
  return stacked;
}

TEST_P(SecureH2oPrefill, ScoresThePromptLikeThePlaintextVotes) {
  const mpc::FixedPoint fp;
  const Scenario s = random_scenario(false, 5);
  const Trace plain = plaintext_trace(ScoreRule::Accumulated, s);
  const RingMatrix probabilities = fp.encode(prompt_probabilities(s));
  std::vector<RingMatrix> got;
  run_session(GetParam(), [&](protocols::Session& session) {
    Protocol& p = session.protocol();
    protocols::ops::SecureOps ops(session);
    SecureScoreEviction policy(ops, ScoreRule::Accumulated, test_config());
    policy.begin(kShape, kBudget);
    SecureLayerCache cache = shared_prompt_cache(p, s, fp);
    const Share stacked = input_from(p, 1, probabilities);
    policy.on_prefill(0, PromptAttention(stacked, kQueryHeads), cache);
    std::vector<RingMatrix> mine = reveal_all(p, policy.scores(0));
    if (p.mesh().self() == 0) got = std::move(mine);
  });
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kKvHeads));
  for (int g = 0; g < kKvHeads; ++g) {
    const FloatMatrix scores = fp.decode(got[g]);
    ASSERT_EQ(scores.cols(), kBudget);
    for (int r = 0; r < kBudget; ++r) EXPECT_NEAR(scores(0, r), plain.prefill_scores[g][r], kSummedRounding);
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, SecureH2oPrefill,
                         testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         protocols_test::backend_name);

template <typename Error>
bool throws(const std::function<void()>& f) {
  try {
    f();
  } catch (const Error&) {
    return true;
  }
  return false;
}

TEST(SecureScoreEviction, RejectsBadInputs) {
  std::array<int, protocols_test::kParties> rejected{};
  run_session(Backend::ThreePartyReplicated, [&](protocols::Session& session) {
    Protocol& p = session.protocol();
    protocols::ops::SecureOps ops(session);
    int count = 0;
    count += throws<std::invalid_argument>([&] { SecureScoreEviction(ops, ScoreRule::Current, test_config()).begin(kShape, 0); });
    count += throws<std::invalid_argument>(
        [&] { SecureScoreEviction(ops, ScoreRule::Current, test_config()).begin(ModelShape{1, 2, 0, kDim}, 8); });
    SecureScoreEviction h2o(ops, ScoreRule::Accumulated, test_config());
    h2o.begin(kShape, 4);
    SecureLayerCache one_head{p.fix(std::vector<Share>(1, protocols::ops::zeros(p, 4, kDim))),
                              p.fix(std::vector<Share>(1, protocols::ops::zeros(p, 4, kDim)))};
    count += throws<std::invalid_argument>([&] { h2o.on_prefill(0, {}, one_head); });
    SecureLayerCache too_long{p.fix(std::vector<Share>(kKvHeads, protocols::ops::zeros(p, 6, kDim))),
                              p.fix(std::vector<Share>(kKvHeads, protocols::ops::zeros(p, 6, kDim)))};
    count += throws<std::logic_error>([&] { h2o.on_prefill(0, {}, too_long); });
    SecureLayerCache fits{p.fix(std::vector<Share>(kKvHeads, protocols::ops::zeros(p, 4, kDim))),
                          p.fix(std::vector<Share>(kKvHeads, protocols::ops::zeros(p, 4, kDim)))};
    h2o.on_prefill(0, {}, fits);
    const std::vector<Share> wrong_width(kQueryHeads, protocols::ops::zeros(p, 1, 3));
    count += throws<std::invalid_argument>([&] { h2o.on_attention(0, wrong_width, fits); });
    const std::vector<Share> too_few(1, protocols::ops::zeros(p, 1, 4));
    count += throws<std::invalid_argument>([&] { h2o.on_attention(0, too_few, fits); });
    rejected[p.mesh().self()] = count;
  });
  for (int r : rejected) EXPECT_EQ(r, 6);
}

}  // namespace
}  // namespace kvcache::secure
