// Per-policy cost of one decode step's cache work (on_append + select + on_attention, the dense
// attention itself excluded) at n = 4096 cached tokens, GPT-2-small head shape (12 heads, d = 64).
#include "kvcache/attention.hpp"
#include "kvcache/registry/policy_registry.hpp"

#include <benchmark/benchmark.h>

#include <random>

namespace {

using namespace kvcache;

constexpr int kTokens = 4096;
const ModelShape kShape{1, 12, 12, 64};

Eigen::RowVectorXd random_row(std::mt19937& rng) {
  std::normal_distribution<double> normal;
  Eigen::RowVectorXd r(kShape.head_dim);
  for (int i = 0; i < kShape.head_dim; ++i) r[i] = normal(rng);
  return r;
}

void policy_step(benchmark::State& state, const std::string& name) {
  PolicyConfig config;
  config.budget = Budget{1.0, 0};  // eviction policies hold the cache at n
  config.mpcache_static_ratio = 1.0;
  if (name == "quest") config.budget = Budget{0.2, 0};
  auto policy = make_policy(name, config);
  policy->begin(kShape, kTokens);
  std::mt19937 rng(1);
  LayerCache cache;
  cache.heads.resize(kShape.kv_heads);
  for (auto& head : cache.heads) {
    for (int p = 0; p < kTokens; ++p) head.append(random_row(rng), random_row(rng), p);
  }
  std::vector<FloatMatrix> query(kShape.query_heads);
  int position = kTokens;
  auto step = [&](bool timed) {
    if (timed) state.PauseTiming();
    for (auto& head : cache.heads) head.append(random_row(rng), random_row(rng), position);
    for (auto& q : query) q = random_row(rng);
    ++position;
    if (timed) state.ResumeTiming();
    policy->on_append(0, cache);
    const Selection selection = policy->select(0, query, cache);
    if (timed) state.PauseTiming();
    std::vector<Eigen::RowVectorXd> probs;
    for (int h = 0; h < kShape.query_heads; ++h) {
      probs.push_back(dense_attention(query[h].row(0), cache.heads[h], selection.rows[h]).probs);
    }
    if (timed) state.ResumeTiming();
    policy->on_attention(0, probs, selection, cache);
    benchmark::DoNotOptimize(selection);
  };
  step(false);  // first step builds lazy state (boxes, sparse stores) outside the timing
  for (auto _ : state) step(true);
}

}  // namespace

int main(int argc, char** argv) {
  for (const auto& name : policy_names()) {
    benchmark::RegisterBenchmark(("decode_step/" + name).c_str(), policy_step, name)
        ->Iterations(100)
        ->Unit(benchmark::kMicrosecond);
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  return 0;
}
