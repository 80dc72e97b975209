// Cost of the secure MPCache selection for one layer (kvcache/secure/): building the cluster boxes
// at prefill, one append per decode step (a plain step and one that closes a level-1 cluster),
// and one selection (scores + two top-k + one-hot gather of keys and values) per backend; and the
// look-once static eviction of a private prompt (window votes, secret top-k, compaction), whose
// vote softmax grows as heads x window x n = heads x 0.2 n^2 and so is measured at short prompts.
// Parties run as threads over an in-process mesh (net::LocalMesh), which counts rounds and bytes
// exactly as the TLS mesh does; times exclude network latency and bandwidth unless --network
// shapes the in-process links (loopback, lan, wan or RATE,RTT).
//
// Usage: kvcache_secure_bench [--quick] [--network PROFILE]   (--quick: 2 heads of 16 channels, 256 and 512 rows)
#include "bench/bench_network.hpp"
#include "kvcache/secure/secure_cluster_selection.hpp"
#include "kvcache/secure/secure_static_eviction.hpp"
#include "net/local_mesh.hpp"
#include "protocols/session.hpp"
#include "protocols/ops/share_layout.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <random>
#include <string>

namespace {

net::LinkProfile network;  // --network

using kvcache::secure::FixedOperand;
using kvcache::secure::Share;
using protocols::Backend;

struct Cost {
  std::uint64_t rounds = 0;
  std::uint64_t online_bytes = 0;   // sent by P0, P1 (and P2) in the online phase
  std::uint64_t offline_bytes = 0;  // sent by the dealer (2PC)
  double seconds = 0;
};

using Costs = std::map<std::string, Cost>;

mpc::RingMatrix random_rows(Eigen::Index rows, Eigen::Index cols, unsigned seed, const mpc::FixedPoint& fp) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(-1, 1);
  mpc::RingMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = fp.encode(dist(gen));
  return m;
}

// Runs `step` with fresh counters and adds this party's share of its cost to costs[name].
void measured(net::Mesh& mesh, std::mutex& lock, Costs& costs, const std::string& name, const std::function<void()>& step) {
  mesh.stats().reset();
  const auto start = std::chrono::steady_clock::now();
  {
    net::PhaseScope phase(mesh.stats(), "online");
    step();
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard guard(lock);
  Cost& c = costs[name];
  c.online_bytes += mesh.stats().phase_total("online").bytes_sent;
  c.offline_bytes += mesh.stats().phase_total("offline").bytes_sent;
  c.rounds = std::max(c.rounds, mesh.stats().rounds("online"));
  c.seconds = std::max(c.seconds, seconds);
}

Costs run(Backend backend, int heads, int dim, int len) {
  Costs costs;
  std::mutex lock;
  net::run_local_parties(3, [&](net::Mesh& mesh) {
    protocols::Session session(backend, mesh);
    protocols::Protocol& proto = session.protocol();
    protocols::ops::SecureOps ops(session);
    const mpc::FixedPoint& fp = proto.fixed_point();
    const kvcache::ClusterSelectionParams params;
    // 31 rows after the prefill close a level-1 cluster when len is a multiple of 32.
    const int prefill = len - 31;
    std::vector<Share> keys, values, queries;
    for (int h = 0; h < heads; ++h) {
      const mpc::RingMatrix k = random_rows(len, dim, 3 * h, fp), v = random_rows(len, dim, 3 * h + 1, fp);
      const mpc::RingMatrix q = random_rows(1, dim, 3 * h + 2, fp);
      const bool owner = mesh.self() == 0;
      keys.push_back(proto.input(0, owner ? &k : nullptr, len, dim));
      values.push_back(proto.input(0, owner ? &v : nullptr, len, dim));
      queries.push_back(proto.input(0, owner ? &q : nullptr, 1, dim));
    }
    auto rows = [&](Eigen::Index first, Eigen::Index count) {
      std::vector<Share> out;
      for (const Share& k : keys) out.push_back(protocols::ops::rows_of(k, first, count));
      return out;
    };
    kvcache::secure::SecureClusterBoxes boxes(ops, params, heads, dim);
    measured(mesh, lock, costs, "boxes: initialize " + std::to_string(prefill) + " rows",
             [&] { boxes.initialize(rows(0, prefill)); });
    measured(mesh, lock, costs, "boxes: append (plain step)", [&] { boxes.append(rows(prefill, 1)); });
    for (int r = prefill + 1; r < len - 1; ++r) boxes.append(rows(r, 1));
    measured(mesh, lock, costs, "boxes: append (closes level-2 and level-1)", [&] { boxes.append(rows(len - 1, 1)); });
    const std::vector<FixedOperand> key_ops = proto.fix(keys), value_ops = proto.fix(values);
    std::vector<const FixedOperand*> key_ptrs, value_ptrs;
    for (int h = 0; h < heads; ++h) {
      key_ptrs.push_back(&key_ops[h]);
      value_ptrs.push_back(&value_ops[h]);
    }
    kvcache::secure::SecureClusterSelector selector(ops);
    kvcache::secure::SecureClusterChoice selection;
    measured(mesh, lock, costs, "select (scores + 2 top-k)", [&] { selection = selector.select(queries, boxes); });
    measured(mesh, lock, costs, "gather K and V", [&] { selector.gather(selection, key_ptrs, value_ptrs); });
  }, std::chrono::minutes(10), network);
  return costs;
}

// Static eviction of one layer's private prompt of `len` rows with MPCache's default ratios.
Costs run_static(Backend backend, int heads, int dim, int len) {
  Costs costs;
  std::mutex lock;
  const kvcache::secure::StaticEvictionParams params = kvcache::rules::mpcache_static_counts(kvcache::PolicyConfig{}, len);
  net::run_local_parties(3, [&](net::Mesh& mesh) {
    protocols::Session session(backend, mesh);
    protocols::Protocol& proto = session.protocol();
    protocols::ops::SecureOps ops(session);
    const mpc::FixedPoint& fp = proto.fixed_point();
    const bool owner = mesh.self() == 0;
    std::vector<Share> keys, values, queries;
    for (int h = 0; h < heads; ++h) {
      const mpc::RingMatrix k = random_rows(len, dim, 5 * h, fp), v = random_rows(len, dim, 5 * h + 1, fp);
      const mpc::RingMatrix q = random_rows(params.window, dim, 5 * h + 2, fp);
      keys.push_back(proto.input(0, owner ? &k : nullptr, len, dim));
      values.push_back(proto.input(0, owner ? &v : nullptr, len, dim));
      queries.push_back(proto.input(0, owner ? &q : nullptr, params.window, dim));
    }
    kvcache::secure::SecureLayerCache cache{proto.fix(keys), proto.fix(values)};
    measured(mesh, lock, costs,
             "static eviction: keep " + std::to_string(params.capacity) + " (window " + std::to_string(params.window) + ")",
             [&] {
               const Share votes = kvcache::secure::static_eviction_votes(ops, queries, cache, params.window);
               kvcache::secure::secure_static_eviction(ops, votes, heads, cache, params);
             });
  }, std::chrono::minutes(10), network);
  return costs;
}

void print(int len, Backend backend, const Costs& costs) {
  for (const auto& [name, c] : costs) {
    std::printf("| %d | %s | %s | %llu | %llu | %llu | %.3f |\n", len, protocols::to_string(backend).c_str(), name.c_str(),
                static_cast<unsigned long long>(c.rounds), static_cast<unsigned long long>(c.online_bytes),
                static_cast<unsigned long long>(c.offline_bytes), c.seconds);
    std::fflush(stdout);
  }
}

}  // namespace

int main(int argc, char** argv) {
  network = bench::take_network_flag(argc, argv);
  const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
  const int heads = quick ? 2 : 12, dim = quick ? 16 : 64;
  const std::vector<int> lengths = quick ? std::vector<int>{256, 512} : std::vector<int>{1024, 4096};
  std::printf("| len | backend | step | online rounds | online bytes | offline bytes | seconds |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  const std::vector<int> static_lengths = quick ? std::vector<int>{64, 128} : std::vector<int>{256, 512};
  for (Backend backend : {Backend::TwoPartyDealer, Backend::ThreePartyReplicated}) {
    for (int len : lengths) print(len, backend, run(backend, heads, dim, len));
    for (int len : static_lengths) print(len, backend, run_static(backend, heads, dim, len));
  }
  std::printf("(%d heads of %d channels, one query per head, clusters 32/16, ratios 0.5/0.2)\n", heads, dim);
}
