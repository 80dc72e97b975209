// The proven value bounds hold on the values the forward pass's building blocks produce, for
// ordinary hidden states and for the spikes that reach a normalisation's extreme output, in both
// architectures; and the widths derived from them keep their stated margin.
#include "model/layers.hpp"
#include "model/secure/value_widths.hpp"
#include "model/value_bounds.hpp"
#include "tests/model/test_paths.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

namespace {

using model::Architecture;
using model::FloatMatrix;
using model::ModelConfig;
using model::Vector;

ModelConfig small(Architecture architecture) {
  ModelConfig c;
  c.architecture = architecture;
  c.activation = architecture == Architecture::Gpt2 ? model::Activation::GeluTanh : model::Activation::Silu;
  c.vocab_size = 60;
  c.hidden_size = 32;
  c.layers = 2;
  c.heads = 4;
  c.kv_heads = architecture == Architecture::Gpt2 ? 4 : 2;
  c.head_dim = 8;
  c.intermediate_size = 48;
  c.max_positions = 64;
  c.tie_word_embeddings = architecture == Architecture::Gpt2;
  return c;
}

// Rows of hidden states: Gaussian rows of several scales, then one spike per row (+-1000 on one
// component over a small background), which maximises the normalised component.
FloatMatrix hidden_states(int hidden, std::mt19937_64& rng) {
  std::normal_distribution<double> normal;
  const int gaussian = 48, spikes = 2 * hidden;
  FloatMatrix x(gaussian + spikes, hidden);
  for (int r = 0; r < gaussian; ++r)
    for (int c = 0; c < hidden; ++c) x(r, c) = normal(rng) * std::pow(10.0, r % 4 - 1);
  for (int s = 0; s < spikes; ++s) {
    for (int c = 0; c < hidden; ++c) x(gaussian + s, c) = 1e-3 * normal(rng);
    x(gaussian + s, s % hidden) = s < hidden ? 1000.0 : -1000.0;
  }
  return x;
}

struct Observed {
  std::vector<double> activation, scores, attention_output;
  double logits = 0;
};

// The largest magnitudes the plaintext building blocks give on `x` (scores between every pair of
// rows, keys rotated at other positions than the queries).
Observed observe(const model::TransformerWeights& w, const FloatMatrix& x) {
  const ModelConfig& c = w.config;
  Observed o;
  for (const model::LayerWeights& l : w.layers) {
    const FloatMatrix attn = model::normalize(x, l.attn_norm_weight, l.attn_norm_bias, c.architecture, c.norm_eps);
    FloatMatrix q = model::affine(attn, l.wq, l.bq), k = model::affine(attn, l.wk, l.bk);
    if (c.architecture == Architecture::Llama) {
      model::apply_rope(q, c.heads, c.head_dim, 3, c.rope_theta);
      model::apply_rope(k, c.kv_heads, c.head_dim, 17, c.rope_theta);
    }
    double worst = 0;
    const int group = c.heads / c.kv_heads;
    for (int h = 0; h < c.heads; ++h) {
      const FloatMatrix s = q.middleCols(h * c.head_dim, c.head_dim) * k.middleCols(h / group * c.head_dim, c.head_dim).transpose();
      worst = std::max(worst, s.cwiseAbs().maxCoeff() / std::sqrt(static_cast<double>(c.head_dim)));
    }
    o.scores.push_back(worst);
    // Attention that puts all its weight on one row (the extreme points of what a softmax mixes),
    // every query head reading its value head.
    const FloatMatrix v = model::affine(attn, l.wv, l.bv);
    FloatMatrix attended(v.rows(), c.heads * c.head_dim);
    for (int h = 0; h < c.heads; ++h) attended.middleCols(h * c.head_dim, c.head_dim) = v.middleCols(h / group * c.head_dim, c.head_dim);
    o.attention_output.push_back((attended * l.wo).cwiseAbs().maxCoeff());
    const FloatMatrix mlp = model::normalize(x, l.mlp_norm_weight, l.mlp_norm_bias, c.architecture, c.norm_eps);
    const FloatMatrix activated = c.architecture == Architecture::Gpt2 ? model::affine(mlp, l.w_up, l.b_up)
                                                                       : model::affine(mlp, l.w_gate, Vector());
    o.activation.push_back(activated.cwiseAbs().maxCoeff());
  }
  const FloatMatrix final_in = model::normalize(x, w.final_norm_weight, w.final_norm_bias, c.architecture, c.norm_eps);
  o.logits = (final_in * w.output_matrix()).cwiseAbs().maxCoeff();
  return o;
}

void expect_bounds_hold(const model::TransformerWeights& w, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  const model::ValueBounds b = model::value_bounds(w);
  ASSERT_EQ(b.activation_input.size(), w.layers.size());
  ASSERT_EQ(b.scores.size(), w.layers.size());
  ASSERT_EQ(b.attention_output.size(), w.layers.size());
  const Observed o = observe(w, hidden_states(w.config.hidden_size, rng));
  for (std::size_t l = 0; l < w.layers.size(); ++l) {
    EXPECT_LE(o.activation[l], b.activation_input[l]) << "layer " << l;
    EXPECT_LE(o.scores[l], b.scores[l]) << "layer " << l;
    EXPECT_LE(o.attention_output[l], b.attention_output[l]) << "layer " << l;
    EXPECT_GT(o.activation[l], 0.0);
  }
  EXPECT_LE(o.logits, b.logits);
}

class ValueBoundsTest : public ::testing::TestWithParam<Architecture> {};

TEST_P(ValueBoundsTest, HoldOnOrdinaryAndSpikedHiddenStates) {
  for (std::uint64_t seed : {1u, 2u, 3u}) {
    SCOPED_TRACE(seed);
    model::TransformerWeights w = model::random_weights(small(GetParam()), seed, 0.3);
    // Gains and biases away from 1 and 0, so their magnitudes enter the bound.
    std::mt19937_64 rng(seed + 100);
    std::uniform_real_distribution<double> u(-2.0, 2.0);
    for (model::LayerWeights& l : w.layers)
      for (Vector* v : {&l.attn_norm_weight, &l.mlp_norm_weight, &l.attn_norm_bias, &l.mlp_norm_bias})
        for (Eigen::Index i = 0; i < v->size(); ++i) (*v)(i) = u(rng);
    expect_bounds_hold(w, seed);
  }
}

INSTANTIATE_TEST_SUITE_P(Architectures, ValueBoundsTest, ::testing::Values(Architecture::Gpt2, Architecture::Llama),
                         [](const auto& info) { return info.param == Architecture::Gpt2 ? "Gpt2" : "Llama"; });

TEST(ValueBounds, HoldOnTheCommittedModels) {
  for (const char* name : {"kjv-gpt2", "kjv-llama"}) {
    SCOPED_TRACE(name);
    const model::TransformerWeights w = model::load_weights(model_test::source_dir() / "models" / name);
    expect_bounds_hold(w, 7);
    const model::secure::ValueWidths widths = model::secure::value_widths(model::value_bounds(w), 16);
    std::printf("%s at F = 16: activation bits", name);
    for (int b : widths.activation) std::printf(" %d", b);
    std::printf(", score bits");
    for (int b : widths.scores) std::printf(" %d", b);
    std::printf(", attention output bits");
    for (int b : widths.attention_output) std::printf(" %d", b);
    std::printf(", logit bits %d\n", widths.logits);
  }
}

TEST(ValueWidths, KeepOneBitOfMarginAboveTheBound) {
  const int f = 16;
  EXPECT_EQ(model::secure::width_for_bound(0.0, f), f + 2);
  EXPECT_EQ(model::secure::width_for_bound(0.75, f), f + 3);  // 1.5 < 2^1
  EXPECT_EQ(model::secure::width_for_bound(1.0, f), f + 4);   // 2 < 2^2, not 2^1
  EXPECT_EQ(model::secure::width_for_bound(1000.0, f), f + 13);
  EXPECT_EQ(model::secure::width_for_bound(1e30, f), 64);
  EXPECT_EQ(model::secure::width_for_bound(std::numeric_limits<double>::infinity(), f), 64);
  EXPECT_EQ(model::secure::width_for_bound(std::nan(""), f), 64);
  for (double bound : {0.3, 1.0, 3.7, 100.0, 65535.0}) {
    const int w = model::secure::width_for_bound(bound, f);
    EXPECT_LT(2 * bound * std::ldexp(1.0, f), std::ldexp(1.0, w - 2)) << bound;
    EXPECT_GE(4 * bound * std::ldexp(1.0, f), std::ldexp(1.0, w - 2)) << bound << ": more than one spare bit";
  }
}

TEST(ValueWidths, TheAnnouncementRoundTripsAndMalformedOnesAreRefused) {
  model::secure::ValueWidths w;
  w.activation = {30, 31, 64};
  w.scores = {40, 18, 50};
  w.attention_output = {25, 26, 64};
  w.logits = 33;
  const auto bytes = model::secure::encode_value_widths(w);
  EXPECT_EQ(bytes.size(), 10u);
  EXPECT_EQ(model::secure::decode_value_widths(bytes, 3, 16), w);
  EXPECT_THROW(model::secure::decode_value_widths(bytes, 2, 16), std::invalid_argument);
  auto low = bytes;
  low[4] = 17;  // below F + 2
  EXPECT_THROW(model::secure::decode_value_widths(low, 3, 16), std::invalid_argument);
  auto high = bytes;
  high[9] = 65;
  EXPECT_THROW(model::secure::decode_value_widths(high, 3, 16), std::invalid_argument);
  EXPECT_THROW(model::secure::decode_value_widths({}, 3, 16), std::invalid_argument);
}

}  // namespace
