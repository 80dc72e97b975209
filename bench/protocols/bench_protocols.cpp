// Secret x secret matrix products and products with a fixed (pre-masked) weight, for both backends,
// with the three parties on TLS over loopback. Prints one JSON object per case: median wall time
// (slowest party), online bytes (all parties, per product), offline bytes (dealer -> P1, per
// product) and rounds per product.
//
//   bench_protocols [repeats] [--network loopback|lan|wan|RATE,RTT]
#include "bench/bench_network.hpp"
#include "mpc/prg.hpp"
#include "protocols/factory.hpp"
#include "tests/support/party_harness.hpp"

#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

net::LinkProfile network;  // --network

using protocols::Backend;

struct Case {
  Eigen::Index m, k, n;
  bool fixed;
};

struct PartyResult {
  std::vector<double> seconds;
  net::Counters online, offline;
};

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0.0 : v[v.size() / 2];
}

PartyResult run_party(protocols::Protocol& p, const Case& c, int repeats) {
  const mpc::RingMatrix x = mpc::Prg(mpc::random_seed()).random(c.m, c.k);
  const mpc::RingMatrix w = mpc::Prg(mpc::random_seed()).random(c.k, c.n);
  const int self = p.mesh().self();
  const protocols::Share sx = p.input(1, self == 1 ? &x : nullptr, c.m, c.k);
  const protocols::Share sw = p.input(0, self == 0 ? &w : nullptr, c.k, c.n);
  std::optional<protocols::FixedOperand> fw;
  if (c.fixed) {
    net::PhaseScope weights(p.mesh().stats(), "weights");
    fw = p.fix(sw);
  }
  PartyResult r;
  auto& stats = p.mesh().stats();
  const net::Counters offline_before = stats.phase_total(protocols::kOfflinePhase);
  for (int i = 0; i < repeats; ++i) {
    net::PhaseScope phase(stats, "product");
    const auto start = std::chrono::steady_clock::now();
    const protocols::Share z = c.fixed ? p.matmul_fixed(sx, *fw) : p.matmul(sx, sw);
    r.seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  r.online = stats.phase_total("product");
  r.offline = stats.phase_total(protocols::kOfflinePhase);
  r.offline.bytes_sent -= offline_before.bytes_sent;
  return r;
}

nlohmann::json run_case(Backend backend, const Case& c, int repeats) {
  std::array<PartyResult, 3> results;
  test_support::run_tls_parties(3, [&](net::Mesh& mesh) {
    auto p = protocols::make_protocol(backend, mesh, mpc::FixedPoint(), "bench");
    results[mesh.self()] = run_party(*p, c, repeats);
  }, [] {
    net::MeshOptions opts;
    opts.link = network;
    return opts;
  }());
  double slowest = 0;
  std::uint64_t online = 0, offline = 0, rounds = 0;
  for (const auto& r : results) {
    slowest = std::max(slowest, median(r.seconds));
    online += r.online.bytes_sent;
    offline += r.offline.bytes_sent;
    rounds = std::max(rounds, r.online.rounds);
  }
  return {{"backend", protocols::to_string(backend)},
          {"shape", std::to_string(c.m) + "x" + std::to_string(c.k) + " @ " + std::to_string(c.k) + "x" + std::to_string(c.n)},
          {"weight", c.fixed ? "fixed" : "secret"},
          {"median_seconds", slowest},
          {"online_bytes", online / repeats},
          {"offline_bytes", offline / repeats},
          {"rounds", rounds / repeats},
          {"repeats", repeats},
          {"network", network.describe()}};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    network = bench::take_network_flag(argc, argv);
    const int repeats = argc > 1 ? std::stoi(argv[1]) : 5;
    spdlog::set_level(spdlog::level::warn);
    for (Backend b : {Backend::TwoPartyDealer, Backend::ThreePartyReplicated})
      for (const Case& c : {Case{1, 768, 768, false}, Case{1, 768, 768, true}, Case{128, 768, 3072, false},
                            Case{128, 768, 3072, true}})
        std::cout << run_case(b, c, repeats).dump() << std::endl;
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "bench_protocols: " << e.what() << "\n";
    return 1;
  }
}
