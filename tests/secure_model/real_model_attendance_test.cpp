// On the committed long-context model (models/kjv-llama: RoPE, grouped-query attention, trained
// weights) and a real prompt of 512 tokens (held-out KJV text), the secure MPCache attends exactly
// the token positions the plaintext MPCache attends, in every layer and key/value head at every
// decode step, in both backends: the private prefill's static eviction keeps the same positions
// (sinks, recent rows, the rows the window's votes choose, shared within each layer group) and the
// dynamic selection picks the same clusters. The secure side's choices are secret; the test opens
// them (and the cached keys, to find which position each compacted row holds) through wrappers
// around the policies, which is what a test may do and a deployment never does.
#include "tests/secure_model/secure_run.hpp"
#include "tests/support/party_harness.hpp"
#include "tests/support/session_options.hpp"

#include "eval/text_corpus.hpp"
#include "kvcache/mpcache_policy.hpp"
#include "kvcache/registry/policy_registry.hpp"
#include "kvcache/rules/policy_counts.hpp"
#include "model/sampling.hpp"
#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "model/tokenizer.hpp"
#include "model/transformer.hpp"
#include "protocols/session.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <map>
#include <mutex>

namespace secure_model_test {
namespace {

using kvcache::secure::SecureLayerCache;
using protocols::Backend;
using protocols::Share;
using Positions = std::vector<int>;
// Per select() call (decode steps in order, layers in order inside a step): per key/value head.
using Attendance = std::vector<std::vector<Positions>>;

constexpr int kPromptLength = 512;
constexpr int kDecodeSteps = 3;

std::filesystem::path model_dir() { return source_dir() / "models/kjv-llama"; }

const model::TransformerWeights& weights() {
  static const model::TransformerWeights w = model::load_weights(model_dir());
  return w;
}

// The first kPromptLength + kDecodeSteps tokens of the held-out text: the prompt, then the tokens
// fed at the decode steps (the same on both sides, so every step's query is the same).
const std::vector<int>& text_tokens() {
  static const std::vector<int> tokens = [] {
    const model::Tokenizer tokenizer = model::Tokenizer::load(model_dir());
    std::vector<int> t = eval::load_corpus({source_dir() / "tests/secure_model/data/ruth_1.txt"}, tokenizer).tokens;
    if (static_cast<int>(t.size()) < kPromptLength + kDecodeSteps) throw std::runtime_error("the test text is too short");
    t.resize(kPromptLength + kDecodeSteps);
    return t;
  }();
  return tokens;
}

// The default MPCache settings with the budget of the README's study: static eviction keeps 30% of
// the prompt, the dynamic selection attends a fifth of the level-2 clusters of 16 rows.
kvcache::PolicyConfig mpcache_config() {
  kvcache::PolicyConfig c;
  c.budget = kvcache::Budget{0.3, 0};
  return c;
}

Positions sorted(Positions p) {
  std::sort(p.begin(), p.end());
  return p;
}

// The plaintext policy, recording the positions every select() lets attend.
class RecordingPolicy final : public kvcache::CachePolicy {
 public:
  explicit RecordingPolicy(std::unique_ptr<kvcache::CachePolicy> inner) : inner_(std::move(inner)) {}
  std::string name() const override { return inner_->name(); }
  void begin(const kvcache::ModelShape& shape, int prompt_length) override {
    CachePolicy::begin(shape, prompt_length);
    inner_->begin(shape, prompt_length);
  }
  void on_prefill(int layer, const std::vector<mpc::FloatMatrix>& queries, kvcache::LayerCache& cache) override {
    inner_->on_prefill(layer, queries, cache);
  }
  void on_prefill_done(std::span<kvcache::LayerCache> layers) override { inner_->on_prefill_done(layers); }
  void on_append(int layer, kvcache::LayerCache& cache) override { inner_->on_append(layer, cache); }
  kvcache::Selection select(int layer, const std::vector<mpc::FloatMatrix>& query, const kvcache::LayerCache& cache) override {
    kvcache::Selection s = inner_->select(layer, query, cache);
    std::vector<Positions> heads;
    for (int g = 0; g < cache.kv_heads(); ++g) {
      const Positions& at = cache.heads[g].positions;
      Positions p;
      if (!s.rows[g]) p = at;
      else
        for (int row : *s.rows[g]) p.push_back(at[static_cast<std::size_t>(row)]);
      heads.push_back(sorted(p));
    }
    attended.push_back(std::move(heads));
    return s;
  }
  bool attend(int layer, const std::vector<mpc::FloatMatrix>& query, const kvcache::LayerCache& cache,
              const kvcache::Selection& selection, std::vector<mpc::FloatMatrix>& out) override {
    return inner_->attend(layer, query, cache, selection, out);
  }
  void on_attention(int layer, const std::vector<Eigen::RowVectorXd>& probs, const kvcache::Selection& selection,
                    kvcache::LayerCache& cache) override {
    inner_->on_attention(layer, probs, selection, cache);
  }
  std::vector<double> accumulated_scores(int layer, int kv_head) const override {
    return inner_->accumulated_scores(layer, kv_head);
  }

  Attendance attended;

 private:
  std::unique_ptr<kvcache::CachePolicy> inner_;
};

struct PlainResult {
  std::vector<std::vector<Positions>> kept;  // per layer, per key/value head, after the prompt
  std::vector<std::vector<double>> votes;    // per layer: the static eviction's votes per prompt row
  Attendance attended;
};

PlainResult plaintext_attendance() {
  auto mpcache = std::make_unique<kvcache::MpcachePolicy>(mpcache_config());
  const kvcache::MpcachePolicy& rule = *mpcache;
  RecordingPolicy policy(std::move(mpcache));
  model::Transformer engine(weights());
  const std::vector<int>& text = text_tokens();
  engine.prefill(std::span(text).first(kPromptLength), &policy);
  PlainResult r;
  for (const kvcache::LayerCache& layer : engine.cache()) {
    r.votes.push_back(rule.static_votes(static_cast<int>(r.kept.size())));
    r.kept.emplace_back();
    for (const auto& head : layer.heads) r.kept.back().push_back(sorted(head.positions));
  }
  for (int s = 0; s < kDecodeSteps; ++s) engine.decode(text[static_cast<std::size_t>(kPromptLength + s)]);
  r.attended = std::move(policy.attended);
  return r;
}

// The secure policy, opening (for the test) the cached keys before and after the prompt-time
// eviction, to map each compacted row to its prompt position, and every selection.
class RecordingSecurePolicy final : public kvcache::secure::SecureCachePolicy {
 public:
  // Every party opens the same values (the program must not differ); the 2PC dealer, which only
  // follows it with shape-only shares, records nothing.
  RecordingSecurePolicy(protocols::Protocol& proto, std::unique_ptr<SecureCachePolicy> inner)
      : proto_(proto), inner_(std::move(inner)), records_(proto.role() != protocols::Role::Dealer) {}
  std::string name() const override { return inner_->name(); }
  void begin(const kvcache::ModelShape& shape, int prompt_length) override {
    SecureCachePolicy::begin(shape, prompt_length);
    inner_->begin(shape, prompt_length);
    prompt_keys_.assign(static_cast<std::size_t>(shape.layers), {});
    positions_.assign(static_cast<std::size_t>(shape.layers), {});
  }
  void on_prefill(int layer, const kvcache::secure::PromptAttention& prompt, SecureLayerCache& cache) override {
    for (const auto& keys : cache.keys) prompt_keys_[layer].push_back(opened_rows(keys.value.share()));
    inner_->on_prefill(layer, prompt, cache);
  }
  void on_prefill_done(std::span<SecureLayerCache> layers) override {
    inner_->on_prefill_done(layers);
    if (!records_) return;
    for (std::size_t l = 0; l < layers.size(); ++l)
      for (std::size_t g = 0; g < layers[l].keys.size(); ++g)
        positions_[l].push_back(prompt_positions(opened_rows(layers[l].keys[g].value.share()), prompt_keys_[l][g]));
  }
  void on_append(int layer, std::span<const Share> key_rows, SecureLayerCache& cache) override {
    inner_->on_append(layer, key_rows, cache);
    if (!records_) return;
    for (Positions& p : positions_[layer]) {
      p.push_back(prompt_length_ + appended_[layer]);
      if (static_cast<int>(p.size()) != cache.rows())
        ADD_FAILURE() << "the policy changed the cache while appending: " << p.size() << " positions, " << cache.rows() << " rows";
    }
    ++appended_[layer];
  }
  kvcache::secure::Selection select(int layer, std::span<const Share> queries, const SecureLayerCache& cache) override {
    kvcache::secure::Selection s = inner_->select(layer, queries, cache);
    std::vector<mpc::RingMatrix> chosen;
    for (const Share& c : s.chosen) chosen.push_back(proto_.reveal(c, protocols::kRevealToAll));
    if (!records_) return s;
    std::vector<Positions> heads;
    for (int g = 0; g < cache.kv_heads(); ++g) {
      const Positions& at = positions_[layer][static_cast<std::size_t>(g)];
      Positions p;
      if (s.all) p = at;
      else {
        for (int row : s.public_rows) p.push_back(at[static_cast<std::size_t>(row)]);
        if (!chosen.empty())
          for (int group : chosen_groups(chosen[static_cast<std::size_t>(g)]))
            for (int i = 0; i < s.group_size; ++i) p.push_back(at[static_cast<std::size_t>(group * s.group_size + i)]);
      }
      heads.push_back(sorted(p));
    }
    attended.push_back(std::move(heads));
    return s;
  }
  void on_attention(int layer, std::span<const Share> probs, SecureLayerCache& cache) override {
    inner_->on_attention(layer, probs, cache);
  }

  std::vector<std::vector<Positions>> kept() const {
    std::vector<std::vector<Positions>> k;
    for (const auto& layer : positions_) {
      k.emplace_back();
      for (const Positions& p : layer) {
        Positions prompt_rows;
        std::copy_if(p.begin(), p.end(), std::back_inserter(prompt_rows), [this](int x) { return x < prompt_length_; });
        k.back().push_back(sorted(prompt_rows));
      }
    }
    return k;
  }
  Attendance attended;

 private:
  using RowKey = std::vector<mpc::u64>;
  std::vector<RowKey> opened_rows(const Share& keys) {
    const mpc::RingMatrix m = proto_.reveal(keys, protocols::kRevealToAll);
    std::vector<RowKey> rows;
    for (Eigen::Index r = 0; r < m.rows(); ++r) rows.emplace_back(m.row(r).begin(), m.row(r).end());
    return rows;
  }
  // Where each kept row sat in the prompt: its key equals exactly one prompt row's (the compaction
  // moves ring elements by a 0/1 product, no rounding).
  static Positions prompt_positions(const std::vector<RowKey>& kept, const std::vector<RowKey>& prompt) {
    std::map<RowKey, int> index;
    for (std::size_t i = 0; i < prompt.size(); ++i)
      if (!index.emplace(prompt[i], static_cast<int>(i)).second) ADD_FAILURE() << "two prompt rows have equal keys";
    Positions p;
    for (const RowKey& row : kept) {
      const auto it = index.find(row);
      if (it == index.end()) {
        ADD_FAILURE() << "a kept row matches no prompt row";
        p.push_back(-1);
      } else {
        p.push_back(it->second);
      }
    }
    return p;
  }
  static std::vector<int> chosen_groups(const mpc::RingMatrix& one_hot) {
    std::vector<int> groups;
    for (Eigen::Index r = 0; r < one_hot.rows(); ++r)
      for (Eigen::Index c = 0; c < one_hot.cols(); ++c) {
        if (one_hot(r, c) == 1) groups.push_back(static_cast<int>(c));
        else if (one_hot(r, c) != 0) ADD_FAILURE() << "a selection entry is neither 0 nor 1";
      }
    return groups;
  }
  protocols::Protocol& proto_;
  std::unique_ptr<SecureCachePolicy> inner_;
  std::vector<std::vector<std::vector<RowKey>>> prompt_keys_;  // per layer, per key/value head
  std::vector<std::vector<Positions>> positions_;              // per layer, per key/value head, per row
  std::map<int, int> appended_;                                // rows appended per layer
  bool records_;
};

struct SecureResult {
  std::vector<std::vector<Positions>> kept;
  Attendance attended;
};

SecureResult secure_attendance(Backend backend) {
  const model::ModelConfig& config = weights().config;
  const std::vector<int>& text = text_tokens();
  SecureResult result;
  std::mutex mutex;
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        const int self = mesh.self();
        SecureParty party(backend, mesh, weights());
        protocols::Protocol& proto = party.proto();
        model::secure::SecureTransformer& engine = party.engine;
        protocols::ops::SecureOps ops(party.session);
        RecordingSecurePolicy policy(proto, kvcache::make_secure_policy("mpcache", ops, mpcache_config()));
        engine.set_cache_policy(&policy);
        const std::vector<int> prompt(text.begin(), text.begin() + kPromptLength);
        engine.prefill(self == 1 ? prompt : std::vector<int>{}, kPromptLength);
        for (int s = 0; s < kDecodeSteps; ++s) {
          std::optional<mpc::RingMatrix> one_hot;
          if (self == 1) {
            one_hot = mpc::RingMatrix::Zero(1, config.vocab_size);
            (*one_hot)(0, text[static_cast<std::size_t>(kPromptLength + s)]) = 1;
          }
          engine.decode(proto.input(1, one_hot ? &*one_hot : nullptr, 1, config.vocab_size));
        }
        if (self != 0) return;
        std::lock_guard lock(mutex);
        result.kept = policy.kept();
        result.attended = std::move(policy.attended);
      },
      test_support::test_mesh_options());
  return result;
}

// The secure votes add up fixed-point probabilities of the window's queries, each within
// softmax's error bound (docs/operators.md: 2.5e-5), so two rows whose plaintext votes lie closer
// than the window's total error may change places in the secure kept set.
constexpr double kSoftmaxError = 2.5e-5;

double vote_tolerance() {
  return 2 * kSoftmaxError * kvcache::rules::mpcache_static_counts(mpcache_config(), kPromptLength).window;
}

Positions minus(const Positions& a, const Positions& b) {
  Positions out;
  std::set_difference(a.begin(), a.end(), b.begin(), b.end(), std::back_inserter(out));
  return out;
}

// Whether the secure kept set differs from the plaintext one only by near-ties: every row the
// plaintext kept and the secure form did not has a vote at most the tolerance above every row the
// secure form kept instead.
::testing::AssertionResult differs_by_near_ties(const Positions& plain, const Positions& secure, const std::vector<double>& votes) {
  const Positions dropped = minus(plain, secure), added = minus(secure, plain);
  if (dropped.size() != added.size()) return ::testing::AssertionFailure() << "the kept sets differ in size";
  double worst = 0;
  for (int p : dropped)
    for (int q : added) worst = std::max(worst, votes.at(static_cast<std::size_t>(p)) - votes.at(static_cast<std::size_t>(q)));
  if (worst > vote_tolerance())
    return ::testing::AssertionFailure() << dropped.size() << " rows swapped, with a vote gap of " << worst
                                         << " (tolerance " << vote_tolerance() << ")";
  return ::testing::AssertionSuccess();
}

class RealModelAttendance : public ::testing::TestWithParam<Backend> {};

TEST_P(RealModelAttendance, SecureMpcacheAttendsThePlaintextMpcachesPositions) {
  const PlainResult plain = plaintext_attendance();
  const int layers = weights().config.layers, kv_heads = weights().config.kv_heads;
  ASSERT_EQ(plain.attended.size(), static_cast<std::size_t>(kDecodeSteps * layers));
  // The reference is not degenerate: eviction kept a minority of the prompt, and the selection
  // attends fewer rows than are cached.
  EXPECT_LT(plain.kept[0][0].size(), kPromptLength / 2);
  EXPECT_LT(plain.attended[0][0].size(), plain.kept[0][0].size());

  const SecureResult secure = secure_attendance(GetParam());
  ASSERT_EQ(secure.kept.size(), plain.kept.size());
  ASSERT_EQ(secure.attended.size(), plain.attended.size());
  // Layers whose kept sets agree must attend exactly the same positions at every step; a layer
  // whose kept set differs by near-ties holds other rows, so its clusters are not comparable.
  int exact_layers = 0, compared = 0;
  for (int l = 0; l < layers; ++l) {
    bool same_rows = true;
    for (int g = 0; g < kv_heads; ++g) {
      same_rows = same_rows && secure.kept[l][g] == plain.kept[l][g];
      EXPECT_TRUE(differs_by_near_ties(plain.kept[l][g], secure.kept[l][g], plain.votes[l]))
          << "kept positions, layer " << l << ", key/value head " << g;
    }
    if (!same_rows) continue;
    ++exact_layers;
    for (int step = 0; step < kDecodeSteps; ++step)
      for (int g = 0; g < kv_heads; ++g, ++compared)
        EXPECT_EQ(secure.attended[step * layers + l][g], plain.attended[step * layers + l][g])
            << "attended positions, step " << step << ", layer " << l << ", key/value head " << g;
  }
  std::printf("%d of %d layers kept the plaintext's positions exactly; %d (step, layer, head) selections compared\n",
              exact_layers, layers, compared);
  EXPECT_GE(2 * exact_layers, layers) << "too few layers to compare the dynamic selection";
}

INSTANTIATE_TEST_SUITE_P(Backends, RealModelAttendance, ::testing::Values(Backend::TwoPartyDealer, Backend::ThreePartyReplicated),
                         [](const auto& info) { return info.param == Backend::TwoPartyDealer ? "TwoParty" : "ThreeParty"; });

}  // namespace
}  // namespace secure_model_test
