#include "parties/matmul_job.hpp"

#include "mpc/prg.hpp"

#include <chrono>

namespace parties {

namespace {

constexpr int kOwnerOfWeights = 0;  // P0, the model owner
constexpr int kUser = 1;            // P1, the user

mpc::FloatMatrix uniform(mpc::Prg& prg, int rows, int cols, double bound) {
  const mpc::RingMatrix bits = prg.random(rows, cols);
  return bits.unaryExpr([bound](mpc::u64 v) { return bound * (2.0 * (static_cast<double>(v >> 11) * 0x1.0p-53) - 1.0); });
}

mpc::Seed seed_from(std::uint64_t value) {
  mpc::Seed seed{};
  for (int i = 0; i < 8; ++i) seed[i] = static_cast<std::uint8_t>(value >> (8 * i));
  return seed;
}

}  // namespace

MatmulDemoInputs matmul_demo_inputs(const MatmulJobOptions& o) {
  mpc::Prg prg(seed_from(o.demo_seed));
  MatmulDemoInputs in;
  in.x = uniform(prg, o.rows, o.inner, 1.0);
  // Scaled like a trained layer's weights so products stay in a realistic range.
  in.w = uniform(prg, o.inner, o.cols, 1.0 / std::sqrt(static_cast<double>(o.inner)));
  return in;
}

nlohmann::json MatmulJobResult::to_json() const {
  nlohmann::json j = {{"product_seconds", product_seconds}};
  if (checked) j["max_abs_error"] = max_abs_error;
  return j;
}

MatmulJobResult run_matmul_job(protocols::Protocol& proto, const MatmulJobOptions& o) {
  const auto& fp = proto.fixed_point();
  const int self = proto.mesh().self();
  const MatmulDemoInputs inputs = matmul_demo_inputs(o);
  const mpc::RingMatrix x_enc = fp.encode(inputs.x), w_enc = fp.encode(inputs.w);
  auto& stats = proto.mesh().stats();

  protocols::Share w, x;
  {
    net::PhaseScope phase(stats, "input");
    w = proto.input(kOwnerOfWeights, self == kOwnerOfWeights ? &w_enc : nullptr, o.inner, o.cols);
    x = proto.input(kUser, self == kUser ? &x_enc : nullptr, o.rows, o.inner);
  }
  std::optional<protocols::FixedOperand> fixed;
  if (o.fixed_weight) {
    net::PhaseScope phase(stats, "weights");
    fixed = proto.fix(w);
  }

  MatmulJobResult result;
  mpc::RingMatrix revealed;
  for (int r = 0; r < o.repeats; ++r) {
    net::PhaseScope phase(stats, "matmul");
    const auto start = std::chrono::steady_clock::now();
    const protocols::Share y = proto.truncate(fixed ? proto.matmul_fixed(x, *fixed) : proto.matmul(x, w));
    revealed = proto.reveal(y, kUser);
    result.product_seconds.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  }
  if (proto.role() == protocols::Role::P1) {
    const mpc::FloatMatrix expected = inputs.x * inputs.w;
    result.max_abs_error = (fp.decode(revealed) - expected).cwiseAbs().maxCoeff();
    result.checked = true;
  }
  return result;
}

}  // namespace parties
