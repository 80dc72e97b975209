// TLS loopback throughput of the party mesh:
//  - one-way: party 0 sends a frame, party 1 answers with an empty acknowledgement;
//  - symmetric: both parties send each other a frame of the same size in one exchange round.
// Party 1 runs on a background thread of the same process (both share the machine's cores).
#include "net/tls_mesh.hpp"
#include "tests/support/party_harness.hpp"

#include <benchmark/benchmark.h>
#include <spdlog/spdlog.h>

#include <sys/resource.h>

#include <memory>
#include <thread>

namespace {

enum class Mode { one_way, symmetric };

// CPU time of the whole process (both parties' threads), so the cost per byte can be read even
// when other jobs compete for the cores and wall-clock throughput is not representative.
double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) * 1e-6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Reports the CPU cost per byte moved and the throughput that cost would allow on one core.
void report_cpu(benchmark::State& state, double cpu_seconds, double bytes) {
  state.counters["cpu_ns_per_byte"] = cpu_seconds * 1e9 / bytes;
  state.counters["one_core_GBps"] = bytes / cpu_seconds / 1e9;
}

class LoopbackPair {
 public:
  LoopbackPair(Mode mode, std::size_t frame_bytes)
      : mode_(mode), deployment_(test_support::make_test_deployment(2)) {
    spdlog::set_level(spdlog::level::warn);
    std::unique_ptr<net::Mesh> peer_mesh;
    std::thread connector([&] { peer_mesh = net::connect_tls_mesh(deployment_->config, 1); });
    mesh_ = net::connect_tls_mesh(deployment_->config, 0);
    connector.join();
    peer_ = std::thread([mesh = std::move(peer_mesh), mode, frame_bytes] { serve(*mesh, mode, frame_bytes); });
  }

  ~LoopbackPair() {
    // An empty frame tells party 1 to stop; in symmetric mode it still answers that last round.
    const net::Outgoing stop[] = {{1, {}}};
    const int from[] = {1};
    mesh_->exchange(stop, mode_ == Mode::symmetric ? std::span<const int>(from) : std::span<const int>());
    peer_.join();
  }

  net::Mesh& mesh() { return *mesh_; }

 private:
  static void serve(net::Mesh& mesh, Mode mode, std::size_t frame_bytes) {
    const net::Bytes reply(frame_bytes, 0xa5);
    const net::Outgoing out[] = {{0, reply}};
    const int from[] = {0};
    for (;;) {
      if (mode == Mode::one_way) {
        if (mesh.recv(0).empty()) return;
        mesh.send(0, {});
      } else if (mesh.exchange(out, from).at(0).empty()) {
        return;
      }
    }
  }

  Mode mode_;
  std::unique_ptr<test_support::TestDeployment> deployment_;
  std::unique_ptr<net::Mesh> mesh_;
  std::thread peer_;
};

void BM_TlsOneWay(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  LoopbackPair pair(Mode::one_way, bytes);
  const net::Bytes payload(bytes, 0x5a);
  const double cpu_start = process_cpu_seconds();
  for (auto _ : state) {
    pair.mesh().send(1, payload);
    benchmark::DoNotOptimize(pair.mesh().recv(1));
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes));
  report_cpu(state, process_cpu_seconds() - cpu_start, static_cast<double>(state.iterations() * bytes));
}

void BM_TlsSymmetricExchange(benchmark::State& state) {
  const auto bytes = static_cast<std::size_t>(state.range(0));
  LoopbackPair pair(Mode::symmetric, bytes);
  const net::Bytes payload(bytes, 0x5a);
  const net::Outgoing out[] = {{1, payload}};
  const int from[] = {1};
  const double cpu_start = process_cpu_seconds();
  for (auto _ : state) benchmark::DoNotOptimize(pair.mesh().exchange(out, from));
  // Counts the bytes of both directions.
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * bytes * 2));
  report_cpu(state, process_cpu_seconds() - cpu_start, static_cast<double>(state.iterations() * bytes * 2));
}

}  // namespace

BENCHMARK(BM_TlsOneWay)->Arg(1 << 20)->Arg(16 << 20)->Arg(64 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_TlsSymmetricExchange)->Arg(1 << 20)->Arg(16 << 20)->Arg(64 << 20)->Unit(benchmark::kMillisecond)->UseRealTime();

BENCHMARK_MAIN();
