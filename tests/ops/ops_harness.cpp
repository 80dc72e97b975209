#include "tests/ops/ops_harness.hpp"

#include <random>

namespace ops_test {

Party::Party(protocols::Session& session, SecureOps& ops, const std::vector<RingMatrix>& inputs)
    : session_(session), proto_(session.protocol()), ops_(ops) {
  const bool owner = proto_.mesh().self() == 0;
  for (const auto& m : inputs) shares_.push_back(proto_.input(0, owner ? &m : nullptr, m.rows(), m.cols()));
}

void Party::record(const std::string& name, const Share& x) {
  RingMatrix opened = proto_.reveal(x, protocols::kRevealToAll);
  if (proto_.mesh().self() == 0) (*results)[name] = std::move(opened);
}

std::vector<Share> Party::timed_all(const std::string& name, const std::function<std::vector<Share>()>& step) {
  net::Stats& stats = proto_.mesh().stats();
  net::PhaseScope phase(stats, kOnline);
  const std::uint64_t before = stats.rounds(kOnline);
  std::vector<Share> out = step();
  if (proto_.mesh().self() == 0) (*rounds)[name] = stats.rounds(kOnline) - before;
  return out;
}

Share Party::timed(const std::string& name, const std::function<Share()>& step) {
  return std::move(timed_all(name, [&] { return std::vector<Share>{step()}; }).front());
}

Outcome run_session(Backend backend, int frac_bits, const std::vector<RingMatrix>& inputs,
                    const std::function<void(Party&)>& body) {
  Outcome outcome;
  test_support::run_tls_parties(3, [&](net::Mesh& mesh) {
    protocols::Session session(backend, mesh, test_support::test_session_options("", mpc::FixedPoint(frac_bits)));
    SecureOps ops(session);
    Party party(session, ops, inputs);
    party.results = &outcome.results;
    party.rounds = &outcome.rounds;
    body(party);
  });
  return outcome;
}

ErrorStats compare(const FloatMatrix& got, const FloatMatrix& want) {
  if (got.rows() != want.rows() || got.cols() != want.cols()) throw std::invalid_argument("compare: shape mismatch");
  const FloatMatrix diff = (got - want).cwiseAbs();
  return ErrorStats{diff.maxCoeff(), diff.mean()};
}

FloatMatrix uniform(Eigen::Index rows, Eigen::Index cols, double lo, double hi, unsigned seed) {
  std::mt19937_64 gen(seed);
  std::uniform_real_distribution<double> dist(lo, hi);
  FloatMatrix m(rows, cols);
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = dist(gen);
  return m;
}

}  // namespace ops_test
