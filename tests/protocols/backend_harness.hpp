// Runs the three parties of a protocol backend over real TLS on loopback (one thread each) and
// collects one result per party, so the test body can compare reconstructed values with plaintext
// on the main thread.
#pragma once

#include "mpc/prg.hpp"
#include "protocols/factory.hpp"
#include "protocols/session.hpp"
#include "tests/support/party_harness.hpp"

#include <gtest/gtest.h>

#include <array>
#include <functional>
#include <string>

namespace protocols_test {

using mpc::RingMatrix;
using protocols::Backend;
using protocols::Protocol;
using protocols::Share;

constexpr int kParties = 3;

// Runs body(protocol) on every party of a fresh arithmetic protocol of `backend` (no boolean
// backend, no key dealing: the arithmetic layer's own traffic alone).
inline void run_backend(Backend backend, const std::function<void(Protocol&)>& body,
                        mpc::FixedPoint fp = mpc::FixedPoint(), const std::string& config = "test") {
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        auto protocol = protocols::make_protocol(backend, mesh, fp, config);
        body(*protocol);
      },
      test_support::test_mesh_options());
}

// Runs body(session) on every party of a freshly opened session of `backend`.
inline void run_session(Backend backend, const std::function<void(protocols::Session&)>& body,
                        protocols::SessionOptions options = {.config = "test"}) {
  test_support::run_tls_parties(
      kParties,
      [&](net::Mesh& mesh) {
        protocols::Session session(backend, mesh, options);
        body(session);
      },
      test_support::test_mesh_options());
}

// The same pseudo-random plaintext on every party (the test knows all inputs; parties pass only their own).
inline RingMatrix public_random(Eigen::Index rows, Eigen::Index cols, std::uint8_t tag) {
  mpc::Seed seed{};
  seed[0] = tag;
  return mpc::Prg(seed).random(rows, cols);
}

// Small signed fixed-point values in [-range, range) encoded, drawn deterministically from `tag`.
inline mpc::FloatMatrix public_reals(Eigen::Index rows, Eigen::Index cols, double range, std::uint8_t tag) {
  const RingMatrix bits = public_random(rows, cols, tag);
  return bits.unaryExpr([range](mpc::u64 v) { return (static_cast<double>(v >> 11) / 9007199254740992.0 * 2 - 1) * range; });
}

inline Share input_from(Protocol& p, int owner, const RingMatrix& value) {
  return p.input(owner, p.mesh().self() == owner ? &value : nullptr, value.rows(), value.cols());
}

inline std::string backend_name(const testing::TestParamInfo<Backend>& info) {
  return info.param == Backend::TwoPartyDealer ? "TwoPartyDealer" : "ThreePartyReplicated";
}

// Parties that compute on shares (the 2PC dealer does not).
inline bool computes(const Protocol& p) { return p.role() != protocols::Role::Dealer; }

}  // namespace protocols_test
