// DCF and DPF key generation (dealer) and evaluation (each party) per second, batches of 4096 keys: DCFs for
// the input widths the comparisons use (31: values known to fit in 32 bits; 63: the whole ring).
//
//   build/release/bench/fss/dcf_bench [--benchmark_repetitions=5]
#include "protocols/fss/dcf.hpp"
#include "protocols/fss/dpf.hpp"

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace {

using protocols::fss::Block;
using protocols::fss::u64;

constexpr std::size_t kBatch = 4096;

struct Batch {
  std::vector<u64> alpha, beta, x;
  std::vector<Block> root0, root1;

  explicit Batch(int bits) {
    std::mt19937_64 gen(7);
    const u64 mask = bits >= 64 ? ~u64{0} : (u64{1} << bits) - 1;
    for (std::size_t i = 0; i < kBatch; ++i) {
      alpha.push_back(gen() & mask), beta.push_back(gen()), x.push_back(gen() & mask);
      root0.push_back({gen(), gen()}), root1.push_back({gen(), gen()});
    }
  }
};

void BM_DcfGenerate(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const Batch b(bits);
  protocols::fss::FixedKeyAes aes;
  for (auto _ : state) benchmark::DoNotOptimize(protocols::fss::dcf_generate(aes, bits, b.alpha, b.beta, b.root0, b.root1));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  state.counters["key_bytes"] = static_cast<double>(protocols::fss::DcfCorrections::bytes_per_key(bits));
}

void BM_DcfEvaluate(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const Batch b(bits);
  protocols::fss::FixedKeyAes aes;
  const auto keys = protocols::fss::dcf_generate(aes, bits, b.alpha, b.beta, b.root0, b.root1);
  for (auto _ : state) benchmark::DoNotOptimize(protocols::fss::dcf_evaluate(aes, 0, b.root0, keys, b.x));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
}

// DPF keys of the lookup tables: generation, and evaluation on the whole domain (outputs per second
// are items x 2^bits).
void BM_DpfGenerate(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  Batch b(bits);
  protocols::fss::FixedKeyAes aes;
  for (auto _ : state) benchmark::DoNotOptimize(protocols::fss::dpf_generate(aes, bits, b.alpha, b.beta, b.root0, b.root1));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * kBatch));
  state.counters["key_bytes"] = static_cast<double>(protocols::fss::DpfCorrections::bytes_per_key(bits));
}

void BM_DpfEvaluateDomain(benchmark::State& state) {
  const int bits = static_cast<int>(state.range(0));
  const Batch b(bits);
  protocols::fss::FixedKeyAes aes;
  const auto keys = protocols::fss::dpf_generate(aes, bits, b.alpha, b.beta, b.root0, b.root1);
  // In chunks of at most 2^14 domain entries, as the lookup gate evaluates them (cache-sized).
  const std::size_t count = kBatch >> (bits > 12 ? bits - 12 : 0);
  const std::size_t chunk = std::max<std::size_t>(1, (std::size_t{1} << 14) >> bits);
  for (auto _ : state)
    for (std::size_t first = 0; first < count; first += chunk)
      benchmark::DoNotOptimize(protocols::fss::dpf_evaluate_domain(aes, 0, b.root0, keys, first, std::min(chunk, count - first)));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * count));
  state.counters["outputs_per_second"] = benchmark::Counter(static_cast<double>(state.iterations() * count) * std::ldexp(1.0, bits),
                                                            benchmark::Counter::kIsRate);
}

BENCHMARK(BM_DpfGenerate)->Arg(8)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DpfEvaluateDomain)->Arg(8)->Arg(10)->Arg(16)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DcfGenerate)->Arg(31)->Arg(63)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_DcfEvaluate)->Arg(31)->Arg(63)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
