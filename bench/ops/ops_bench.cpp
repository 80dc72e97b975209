// Cost of the secure operators per backend: online rounds, online and offline (dealer) bytes per
// element, and wall time for the shapes of a GPT-2-small decode step at 4096 cached tokens.
// Parties run as threads over an in-process mesh (net::LocalMesh), which counts rounds and bytes
// exactly as the TLS mesh does; on loopback (the default) the times exclude network latency and
// bandwidth, which follow from the counts (README: projection); --network shapes the links.
//
// Usage: ops_bench [--quick] [--network loopback|lan|wan|RATE,RTT] [--nonlinear boolean|fss]
//        (--quick runs smaller shapes)
#include "bench/bench_network.hpp"
#include "net/local_mesh.hpp"
#include "protocols/session.hpp"
#include "protocols/ops/secure_ops.hpp"
#include "protocols/ops/share_layout.hpp"

#include <array>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <string>

namespace {

net::LinkProfile network;  // --network
protocols::Comparisons comparisons = protocols::Comparisons::boolean;  // --nonlinear

using protocols::Backend;
using protocols::Share;
using protocols::ops::SecureOps;

struct Measurement {
  std::uint64_t rounds = 0;
  std::uint64_t online_bytes = 0;   // sent by all parties in the online phase
  std::uint64_t offline_bytes = 0;  // sent by the dealer (2PC)
  double seconds = 0;
};

mpc::RingMatrix random_input(Eigen::Index rows, Eigen::Index cols, double lo, double hi, const mpc::FixedPoint& fp) {
  std::mt19937_64 gen(42);
  std::uniform_real_distribution<double> dist(lo, hi);
  mpc::RingMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = fp.encode(dist(gen));
  return m;
}

// Runs op on a fresh session; counts only what `op` does (inputs and set-up are excluded).
Measurement measure(Backend backend, Eigen::Index rows, Eigen::Index cols, double lo, double hi,
                    protocols::ops::OpsOptions options, const std::function<void(SecureOps&, const Share&)>& op) {
  std::array<net::Counters, 3> online{}, offline{};
  std::array<std::uint64_t, 3> rounds{};
  std::array<double, 3> seconds{};
  net::run_local_parties(3, [&](net::Mesh& mesh) {
    protocols::Session session(backend, mesh, {.comparisons = comparisons});
    SecureOps ops(session, options);
    protocols::Protocol& proto = session.protocol();
    const mpc::RingMatrix value = random_input(rows, cols, lo, hi, proto.fixed_point());
    const Share x = proto.input(0, mesh.self() == 0 ? &value : nullptr, rows, cols);
    mesh.stats().reset();
    const auto start = std::chrono::steady_clock::now();
    {
      net::PhaseScope phase(mesh.stats(), "online");
      op(ops, x);
    }
    const int id = mesh.self();
    seconds[id] = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    online[id] = mesh.stats().phase_total("online");
    offline[id] = mesh.stats().phase_total("offline");
    rounds[id] = mesh.stats().rounds("online");
  }, std::chrono::minutes(10), network);
  Measurement m;
  for (int i = 0; i < 3; ++i) {
    m.online_bytes += online[i].bytes_sent;
    m.offline_bytes += offline[i].bytes_sent;
    m.rounds = std::max(m.rounds, rounds[i]);
    m.seconds = std::max(m.seconds, seconds[i]);
  }
  return m;
}

struct Case {
  std::string name;
  std::string shape;
  Eigen::Index rows, cols;
  double lo, hi;
  std::function<void(SecureOps&, const Share&)> op;
  protocols::ops::OpsOptions options{};
};


void report(const Case& c, Backend backend) {
  const Measurement m = measure(backend, c.rows, c.cols, c.lo, c.hi, c.options, c.op);
  const double elements = static_cast<double>(c.rows * c.cols);
  std::printf("| %s | %s | %s | %llu | %.0f | %.0f | %.3f |\n", c.name.c_str(), protocols::to_string(backend).c_str(),
              c.shape.c_str(), static_cast<unsigned long long>(m.rounds), m.online_bytes / elements,
              m.offline_bytes / elements, m.seconds);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  network = bench::take_network_flag(argc, argv);
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--nonlinear") == 0) comparisons = protocols::parse_comparisons(argv[i + 1]);
  std::printf("comparisons: %s\n", protocols::to_string(comparisons).c_str());
  bool quick = false;
  for (int i = 1; i < argc; ++i) quick = quick || std::strcmp(argv[i], "--quick") == 0;
  const Eigen::Index seq = quick ? 512 : 4096, heads = quick ? 2 : 12, k = quick ? 64 : 512;
  const auto shape = [](Eigen::Index r, Eigen::Index c) { return std::to_string(r) + "x" + std::to_string(c); };
  std::vector<Case> cases{
      {"less_than_zero", shape(1, 4096), 1, 4096, -30, 30, [](SecureOps& o, const Share& x) { o.less_than_zero(x); }},
      {"less_than_zero (32-bit values)", shape(1, 4096), 1, 4096, -30, 30,
       [](SecureOps& o, const Share& x) { o.less_than_zero(x, 32); }},
      {"relu", shape(1, 3072), 1, 3072, -8, 8, [](SecureOps& o, const Share& x) { o.relu(x); }},
      {"max", shape(heads, seq), heads, seq, -30, 30, [](SecureOps& o, const Share& x) { o.max(x); }},
      {"argmax (one-hot)", shape(1, 50257 / (quick ? 8 : 1)), 1, 50257 / (quick ? 8 : 1), -30, 30,
       [](SecureOps& o, const Share& x) { o.argmax(x); }},
      {"exp", shape(heads, seq), heads, seq, -30, 0, [](SecureOps& o, const Share& x) { o.exp_negative(x); }},
      {"reciprocal", shape(heads, 1), heads, 1, 1, 4096, [](SecureOps& o, const Share& x) { o.reciprocal(x); }},
      {"rsqrt", shape(1, 1), 1, 1, 1e-2, 1e3, [](SecureOps& o, const Share& x) { o.rsqrt(x); }},
      {"softmax", shape(heads, seq), heads, seq, -30, 30, [](SecureOps& o, const Share& x) { o.softmax(x); }},
      {"max (arity 8)", shape(heads, seq), heads, seq, -30, 30, [](SecureOps& o, const Share& x) { o.max(x); }, {8}},
      {"softmax (arity 8)", shape(heads, seq), heads, seq, -30, 30, [](SecureOps& o, const Share& x) { o.softmax(x); }, {8}},
      {"max (arity 2)", shape(heads, seq), heads, seq, -30, 30, [](SecureOps& o, const Share& x) { o.max(x); }, {2}},
      {"gelu", shape(1, 3072), 1, 3072, -8, 8, [](SecureOps& o, const Share& x) { o.gelu(x); }},
      {"silu", shape(1, 3072), 1, 3072, -8, 8, [](SecureOps& o, const Share& x) { o.silu(x); }},
      {"layer_norm", shape(1, 768), 1, 768, -3, 3,
       [](SecureOps& o, const Share& x) {
         const Share gain = protocols::ops::constant(o.protocol(), mpc::RingMatrix::Constant(1, 768, o.protocol().fixed_point().encode(1.0)));
         o.layer_norm(x, gain, gain);
       }},
      {"top_k k=" + std::to_string(k), shape(1, seq), 1, seq, -30, 30, [k](SecureOps& o, const Share& x) { o.top_k(x, k); }},
  };
  if (!quick) {
    for (Eigen::Index n : {256, 1024}) {
      for (Eigen::Index kk : {Eigen::Index{16}, n / 4}) {
        cases.push_back({"top_k k=" + std::to_string(kk), shape(1, n), 1, n, -30, 30, [kk](SecureOps& o, const Share& x) { o.top_k(x, kk); }});
      }
    }
    // The rank path on a selection-sized row (MPCache's level 1 at n = 4096 after static eviction),
    // with the default 48-bit and the selection's 32-bit value range.
    for (int bits : {48, 32}) {
      cases.push_back({"top_k k=19 rank, " + std::to_string(bits) + "-bit", shape(12, 38), 12, 38, -30, 30,
                       [bits](SecureOps& o, const Share& x) { o.top_k(x, 19, bits); }});
    }
  }
  std::printf("| operator | backend | shape | online rounds | online bytes/elem | offline bytes/elem | time (s) |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const auto& c : cases) {
    for (Backend b : {Backend::TwoPartyDealer, Backend::ThreePartyReplicated}) report(c, b);
  }
  return 0;
}
