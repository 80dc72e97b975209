// Throughput of the ChaCha20 PRG that expands every seed-shared correlation.
#include "mpc/prg.hpp"

#include <benchmark/benchmark.h>

#include <vector>

namespace {

void BM_PrgFillBytes(benchmark::State& state) {
  mpc::Prg prg(mpc::random_seed());
  std::vector<std::uint8_t> buffer(static_cast<std::size_t>(state.range(0)));
  for (auto _ : state) {
    prg.fill(std::span<std::uint8_t>(buffer));
    benchmark::DoNotOptimize(buffer.data());
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * state.range(0));
}

// A ring matrix as the protocols draw it (allocation included).
void BM_PrgRandomMatrix(benchmark::State& state) {
  mpc::Prg prg(mpc::random_seed());
  const Eigen::Index side = state.range(0);
  for (auto _ : state) benchmark::DoNotOptimize(prg.random(side, side));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * side * side * 8);
}

// Many small draws, which go through the partial-block buffer.
void BM_PrgNextU64(benchmark::State& state) {
  mpc::Prg prg(mpc::random_seed());
  for (auto _ : state) benchmark::DoNotOptimize(prg.next_u64());
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * 8);
}

}  // namespace

BENCHMARK(BM_PrgFillBytes)->Arg(4 << 10)->Arg(1 << 20)->Arg(16 << 20);
BENCHMARK(BM_PrgRandomMatrix)->Arg(64)->Arg(768);
BENCHMARK(BM_PrgNextU64);

BENCHMARK_MAIN();
