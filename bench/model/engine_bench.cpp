// Plaintext engine speed: prefill and one decode step at a given context length, for the
// project's trained KJV model (when present) and for GPT-2-small-shaped SEEDED RANDOM weights
// (latency does not depend on the weight values), plus tokenizer throughput.
#include "model/tokenizer.hpp"
#include "model/transformer.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>
#include <memory>

namespace {

const std::filesystem::path kKjvModel = std::filesystem::path(MPCACHE_SOURCE_DIR) / "models/kjv-gpt2";

const model::TransformerWeights& gpt2_small_random() {
  static const auto weights = [] {
    model::ModelConfig c;
    c.vocab_size = 50257;
    c.hidden_size = 768;
    c.layers = 12;
    c.heads = 12;
    c.kv_heads = 12;
    c.head_dim = 64;
    c.intermediate_size = 3072;
    c.max_positions = 1024;
    return model::random_weights(c, 1);
  }();
  return weights;
}

const model::TransformerWeights* kjv() {
  static const auto weights = std::filesystem::exists(kKjvModel / "model.safetensors")
                                  ? std::make_unique<model::TransformerWeights>(model::load_weights(kKjvModel))
                                  : nullptr;
  return weights.get();
}

std::vector<int> tokens(int n, int vocab) {
  std::vector<int> t(n);
  for (int i = 0; i < n; ++i) t[i] = (i * 7919 + 13) % vocab;
  return t;
}

void decode_step(benchmark::State& state, const model::TransformerWeights* weights) {
  if (!weights) {
    state.SkipWithError("models/kjv-gpt2 is absent");
    return;
  }
  model::Transformer engine(*weights);
  const int context = static_cast<int>(state.range(0));
  engine.prefill(tokens(context, weights->config.vocab_size));
  // Each iteration decodes one token; the context grows by the number of iterations, so cap them.
  for (auto _ : state) {
    if (engine.position() + 1 >= weights->config.max_positions) {
      state.PauseTiming();
      engine.prefill(tokens(context, weights->config.vocab_size));
      state.ResumeTiming();
    }
    benchmark::DoNotOptimize(engine.decode(42));
  }
  state.counters["context"] = context;
}

void BM_DecodeKjv(benchmark::State& state) { decode_step(state, kjv()); }
void BM_DecodeGpt2SmallRandom(benchmark::State& state) {
  state.SetLabel("GPT-2-small shape, seeded random weights");
  decode_step(state, &gpt2_small_random());
}

void BM_PrefillKjv(benchmark::State& state) {
  if (!kjv()) {
    state.SkipWithError("models/kjv-gpt2 is absent");
    return;
  }
  model::Transformer engine(*kjv());
  const auto prompt = tokens(static_cast<int>(state.range(0)), kjv()->config.vocab_size);
  for (auto _ : state) benchmark::DoNotOptimize(engine.prefill(prompt));
  state.SetItemsProcessed(state.iterations() * state.range(0));
}

void BM_TokenizerEncode(benchmark::State& state) {
  if (!kjv()) {
    state.SkipWithError("models/kjv-gpt2 is absent");
    return;
  }
  const auto tokenizer = model::Tokenizer::load(kKjvModel);
  std::string text;
  for (int i = 0; i < 200; ++i) text += "And God said, Let there be light: and there was light. ";
  for (auto _ : state) {
    // A fresh copy each time so the per-word cache does not turn this into a lookup benchmark.
    const auto fresh = model::Tokenizer::load(kKjvModel);
    benchmark::DoNotOptimize(fresh.encode(text));
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}

BENCHMARK(BM_DecodeKjv)->Arg(128)->Arg(1000)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DecodeGpt2SmallRandom)->Arg(128)->Unit(benchmark::kMillisecond)->Iterations(5);
BENCHMARK(BM_PrefillKjv)->Arg(256)->Arg(1024)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TokenizerEncode)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
