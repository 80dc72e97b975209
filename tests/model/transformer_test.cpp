#include "model/layers.hpp"
#include "model/transformer.hpp"

#include <gtest/gtest.h>

#include <numeric>

namespace {

using model::Architecture;
using model::FloatMatrix;
using model::ModelConfig;
using model::Transformer;
using model::Vector;

ModelConfig tiny(Architecture architecture) {
  ModelConfig c;
  c.architecture = architecture;
  c.activation = architecture == Architecture::Gpt2 ? model::Activation::GeluTanh : model::Activation::Silu;
  c.vocab_size = 50;
  c.hidden_size = 24;
  c.layers = 3;
  c.heads = 6;
  c.kv_heads = architecture == Architecture::Gpt2 ? 6 : 2;  // grouped-query attention for LLaMA
  c.head_dim = 4;
  c.intermediate_size = 40;
  c.max_positions = 64;
  c.tie_word_embeddings = architecture == Architecture::Gpt2;
  return c;
}

std::vector<int> token_sequence(int n, int vocab) {
  std::vector<int> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 7 + 3) % vocab;
  return t;
}

class EngineTest : public ::testing::TestWithParam<Architecture> {
 protected:
  // Larger than default weights so that attention is far from uniform and mistakes show.
  model::TransformerWeights weights = model::random_weights(tiny(GetParam()), 42, 0.3);
};

TEST_P(EngineTest, DecodeWithCacheEqualsFullRecomputation) {
  Transformer engine(weights);
  const auto tokens = token_sequence(20, weights.config.vocab_size);
  const FloatMatrix all = engine.forward_all(tokens);
  ASSERT_EQ(all.rows(), 20);
  ASSERT_EQ(all.cols(), weights.config.vocab_size);
  const int prompt = 8;
  Vector logits = engine.prefill(std::span(tokens).first(prompt));
  EXPECT_LT((logits - all.row(prompt - 1)).cwiseAbs().maxCoeff(), 1e-9);
  for (int i = prompt; i < 20; ++i) {
    logits = engine.decode(tokens[i]);
    EXPECT_LT((logits - all.row(i)).cwiseAbs().maxCoeff(), 1e-9) << "position " << i;
  }
  EXPECT_EQ(engine.position(), 20);
  ASSERT_EQ(engine.cache().size(), 3u);
  ASSERT_EQ(engine.cache()[1].kv_heads(), weights.config.kv_heads);
  EXPECT_EQ(engine.cache()[1].heads[0].size(), 20);
  EXPECT_EQ(engine.cache()[1].heads[0].positions.back(), 19);
}

TEST_P(EngineTest, ForwardAllIsCausal) {
  Transformer engine(weights);
  auto tokens = token_sequence(12, weights.config.vocab_size);
  const FloatMatrix before = engine.forward_all(tokens);
  tokens[9] = (tokens[9] + 1) % weights.config.vocab_size;
  const FloatMatrix after = engine.forward_all(tokens);
  EXPECT_LT((before.topRows(9) - after.topRows(9)).cwiseAbs().maxCoeff(), 1e-12);
  EXPECT_GT((before.row(9) - after.row(9)).cwiseAbs().maxCoeff(), 1e-6);
}

TEST_P(EngineTest, TraceExposesLayerInputs) {
  Transformer engine(weights);
  model::ForwardTrace trace;
  const auto tokens = token_sequence(5, weights.config.vocab_size);
  const FloatMatrix logits = engine.forward_all(tokens, &trace);
  ASSERT_EQ(trace.layer_inputs.size(), 3u);
  EXPECT_EQ(trace.layer_inputs[0].row(2), weights.token_embedding.row(tokens[2]) +
                                               (GetParam() == Architecture::Gpt2 ? Vector(weights.position_embedding.row(2))
                                                                                 : Vector::Zero(24)));
  EXPECT_LT((trace.final_hidden * weights.output_matrix() - logits).cwiseAbs().maxCoeff(), 1e-12);
}

TEST_P(EngineTest, RejectsBadInput) {
  Transformer engine(weights);
  EXPECT_THROW(engine.decode(1), std::logic_error);
  EXPECT_THROW(engine.prefill(std::vector<int>{}), std::invalid_argument);
  EXPECT_THROW(engine.prefill(std::vector<int>{1, 50}), std::out_of_range);
  EXPECT_THROW(engine.forward_all(std::vector<int>{-1}), std::out_of_range);
  EXPECT_THROW(engine.forward_all(token_sequence(65, 50)), std::out_of_range);
  engine.prefill(token_sequence(63, 50));
  engine.decode(3);  // position 63, the last one
  EXPECT_THROW(engine.decode(3), std::out_of_range);
}

// Records the call sequence and exercises each hook: selects every row explicitly (which must
// not change the result), or keeps only the most recent rows at prefill.
class ProbePolicy : public kvcache::CachePolicy {
 public:
  explicit ProbePolicy(int keep_recent = 0, bool attend_itself = false) : keep_recent_(keep_recent), attend_itself_(attend_itself) {}
  std::string name() const override { return "probe"; }
  void begin(const kvcache::ModelShape& shape, int prompt_length) override {
    CachePolicy::begin(shape, prompt_length);
    log.push_back("begin " + std::to_string(prompt_length));
  }
  void on_prefill(int layer, const std::vector<FloatMatrix>& queries, kvcache::LayerCache& cache) override {
    log.push_back("prefill " + std::to_string(layer));
    EXPECT_EQ(static_cast<int>(queries.size()), shape_.query_heads);
    EXPECT_EQ(queries[0].rows(), prompt_length_);
    EXPECT_EQ(queries[0].cols(), shape_.head_dim);
    if (keep_recent_ == 0) return;
    for (auto& head : cache.heads) {
      std::vector<int> rows(keep_recent_);
      std::iota(rows.begin(), rows.end(), head.size() - keep_recent_);
      head.keep(rows);
    }
  }
  void on_append(int layer, kvcache::LayerCache&) override { log.push_back("append " + std::to_string(layer)); }
  kvcache::Selection select(int layer, const std::vector<FloatMatrix>& query, const kvcache::LayerCache& cache) override {
    log.push_back("select " + std::to_string(layer));
    EXPECT_EQ(query[0].rows(), 1);
    kvcache::Selection s;
    for (const auto& head : cache.heads) {
      std::vector<int> rows(head.size());
      std::iota(rows.begin(), rows.end(), 0);
      s.rows.emplace_back(rows);
    }
    return s;
  }
  bool attend(int layer, const std::vector<FloatMatrix>& query, const kvcache::LayerCache& cache, const kvcache::Selection&,
              std::vector<FloatMatrix>& out) override {
    log.push_back("attend " + std::to_string(layer));
    if (!attend_itself_) return false;
    const int group = shape_.query_heads / shape_.kv_heads;
    for (int h = 0; h < shape_.query_heads; ++h) {
      const auto& head = cache.heads[h / group];
      const Vector p = model::softmax((query[h] * head.keys.transpose()).row(0) / std::sqrt(double(shape_.head_dim)));
      out.push_back(p * head.values);
    }
    return true;
  }
  void on_attention(int layer, const std::vector<Vector>& probs, const kvcache::Selection&, kvcache::LayerCache& cache) override {
    log.push_back("attention " + std::to_string(layer));
    if (attend_itself_) {
      EXPECT_TRUE(probs.empty());
      return;
    }
    ASSERT_EQ(static_cast<int>(probs.size()), shape_.query_heads);
    EXPECT_NEAR(probs[0].sum(), 1.0, 1e-12);
    EXPECT_EQ(probs[0].size(), cache.heads[0].size());
  }
  std::vector<std::string> log;

 private:
  int keep_recent_;
  bool attend_itself_;
};

TEST_P(EngineTest, CallsPolicyInDocumentedOrder) {
  Transformer engine(weights);
  ProbePolicy policy;
  const auto tokens = token_sequence(7, weights.config.vocab_size);
  engine.prefill(std::span(tokens).first(5), &policy);
  engine.decode(tokens[5]);
  std::vector<std::string> expected = {"begin 5", "prefill 0", "prefill 1", "prefill 2"};
  for (int l = 0; l < 3; ++l)
    for (const char* call : {"append ", "select ", "attend ", "attention "}) expected.push_back(call + std::to_string(l));
  EXPECT_EQ(policy.log, expected);
}

TEST_P(EngineTest, FullSelectionAndSelfAttendingPolicyMatchNoPolicy) {
  const auto tokens = token_sequence(16, weights.config.vocab_size);
  Transformer plain(weights), explicit_rows(weights), self_attending(weights);
  ProbePolicy select_all, attend_all(0, true);
  plain.prefill(std::span(tokens).first(10));
  explicit_rows.prefill(std::span(tokens).first(10), &select_all);
  self_attending.prefill(std::span(tokens).first(10), &attend_all);
  for (int i = 10; i < 16; ++i) {
    const Vector expected = plain.decode(tokens[i]);
    EXPECT_LT((explicit_rows.decode(tokens[i]) - expected).cwiseAbs().maxCoeff(), 1e-12);
    EXPECT_LT((self_attending.decode(tokens[i]) - expected).cwiseAbs().maxCoeff(), 1e-9);
  }
}

TEST_P(EngineTest, EvictionAtPrefillShrinksTheCache) {
  const auto tokens = token_sequence(14, weights.config.vocab_size);
  Transformer full(weights), evicted(weights);
  ProbePolicy keep_four(4);
  const Vector a = full.prefill(std::span(tokens).first(10));
  const Vector b = evicted.prefill(std::span(tokens).first(10), &keep_four);
  EXPECT_LT((a - b).cwiseAbs().maxCoeff(), 1e-12);  // prefill attention always sees the whole prompt
  const Vector c = full.decode(tokens[10]);
  const Vector d = evicted.decode(tokens[10]);
  EXPECT_GT((c - d).cwiseAbs().maxCoeff(), 1e-6);  // the decode step no longer sees evicted tokens
  EXPECT_EQ(evicted.cache()[2].heads[0].size(), 5);
  EXPECT_EQ(evicted.cache()[2].heads[0].positions, (std::vector<int>{6, 7, 8, 9, 10}));
}

INSTANTIATE_TEST_SUITE_P(Architectures, EngineTest, ::testing::Values(Architecture::Gpt2, Architecture::Llama),
                         [](const auto& info) { return model::to_string(info.param); });

TEST(Rope, ScoresDependOnlyOnRelativePosition) {
  FloatMatrix q = FloatMatrix::Random(1, 8), k = FloatMatrix::Random(1, 8);
  auto score = [&](int qpos, int kpos) {
    FloatMatrix a = q, b = k;
    model::apply_rope(a, 1, 8, qpos, 10000.0);
    model::apply_rope(b, 1, 8, kpos, 10000.0);
    return (a * b.transpose())(0, 0);
  };
  EXPECT_NEAR(score(7, 3), score(107, 103), 1e-9);
  EXPECT_GT(std::abs(score(7, 3) - score(7, 5)), 1e-6);
  FloatMatrix at_zero = q;
  model::apply_rope(at_zero, 1, 8, 0, 10000.0);
  EXPECT_EQ(at_zero, q);
}

TEST(Layers, NormsAndActivations) {
  FloatMatrix x(1, 4);
  x << 1, 2, 3, 6;
  const FloatMatrix ln = model::normalize(x, Vector::Ones(4), Vector::Zero(4), Architecture::Gpt2, 0.0);
  EXPECT_NEAR(ln.mean(), 0.0, 1e-12);
  EXPECT_NEAR(ln.squaredNorm() / 4, 1.0, 1e-12);
  const FloatMatrix rms = model::normalize(x, Vector::Ones(4), Vector(), Architecture::Llama, 0.0);
  EXPECT_NEAR(rms.squaredNorm() / 4, 1.0, 1e-12);
  FloatMatrix v(1, 3);
  v << -1.0, 0.0, 2.0;
  EXPECT_NEAR(model::activate(v, model::Activation::GeluTanh)(0, 2), 1.9545976, 1e-6);
  EXPECT_NEAR(model::activate(v, model::Activation::GeluErf)(0, 0), -0.1586553, 1e-6);
  EXPECT_NEAR(model::activate(v, model::Activation::Silu)(0, 0), -0.2689414, 1e-6);
}

}  // namespace
