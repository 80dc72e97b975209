#include "protocols/ops/lookup_tables.hpp"

#include "protocols/common/share_components.hpp"
#include "protocols/ops/polynomial.hpp"

#include <Eigen/Dense>

#include <cmath>
#include <stdexcept>

namespace protocols::ops {

namespace {

u64 encode(double v, int frac_bits) { return static_cast<u64>(std::llround(std::ldexp(v, frac_bits))); }

int bits_for(int entries) {
  int b = 0;
  while ((1 << b) < entries) ++b;
  return b;
}

fss::LookupTable table_of(int bits, const auto& value) {
  fss::LookupTable t;
  t.bits = bits;
  t.entries.resize(std::size_t{1} << bits);
  for (std::size_t i = 0; i < t.entries.size(); ++i) t.entries[i] = value(static_cast<long>(i));
  return t;
}

// Cell i of the mantissa tables stands for m in [i, i + components) / 2^g (the carry shifts the
// index down by up to components - 1), so its guess is f at the middle of that range. Indices below
// 2^(g-1) - components cannot occur.
double cell_mantissa(long i, int components) {
  const int g = kMantissaTableBits;
  const long lowest = (1L << (g - 1)) - components;
  return std::ldexp(static_cast<double>(std::max(i, lowest)) + components / 2.0, -g);
}

fss::LookupTable mantissa_table(int frac_bits, int components, double (*f)(double)) {
  return table_of(kMantissaTableBits, [&](long i) { return encode(f(cell_mantissa(i, components)), frac_bits); });
}

// Least-squares line through f on [lo, hi).
std::pair<double, double> fitted_line(double (*f)(double), double lo, double hi) {
  constexpr int kSamples = 33;
  Eigen::MatrixXd design(kSamples, 2);
  Eigen::VectorXd target(kSamples);
  for (int i = 0; i < kSamples; ++i) {
    const double x = lo + (hi - lo) * i / (kSamples - 1);
    design(i, 0) = 1.0, design(i, 1) = x, target(i) = f(x);
  }
  const Eigen::Vector2d c = design.colPivHouseholderQr().solve(target);
  return {c(0), c(1)};
}

}  // namespace

ActivationTable make_activation_table(double (*f)(double), int bits, int step_log2, int frac_bits, int components) {
  ActivationTable t;
  const double step = std::ldexp(1.0, -step_log2);
  t.offset = std::ldexp(step, bits - 1);
  t.threshold = t.offset - 4 * step;
  t.step_log2 = step_log2;
  std::vector<std::pair<double, double>> lines(std::size_t{1} << bits);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const double lo = static_cast<double>(i) * step - t.offset;
    lines[i] = fitted_line(f, lo, lo + components * step);
  }
  t.intercept = table_of(bits, [&](long i) { return encode(lines[static_cast<std::size_t>(i)].first, frac_bits); });
  t.slope = table_of(bits, [&](long i) { return encode(lines[static_cast<std::size_t>(i)].second, frac_bits + kSlopeExtraBits); });
  return t;
}

fss::LookupTable norm_rsqrt_table(Eigen::Index d, int frac_bits, int components) {
  const double root = std::sqrt(static_cast<double>(d));
  const double r_d = root / std::ldexp(1.0, std::ilogb(root));
  const long cells = 1L << kMantissaTableBits;
  return table_of(kMantissaTableBits + 1, [&](long i) {
    const double parity = i >= cells ? std::sqrt(2.0) : 1.0;
    return encode(parity * r_d / std::sqrt(cell_mantissa(i % cells, components)), frac_bits);
  });
}

int share_components(Backend backend) { return backend == Backend::ThreePartyReplicated ? 3 : 2; }

Share shift_components_right(const Share& x, int bits) {
  return map_components(x, [bits](const RingMatrix& m) -> RingMatrix { return m.unaryExpr([bits](u64 v) { return v >> bits; }); });
}

LookupTables make_lookup_tables(int frac_bits, int components) {
  if (components < 2 || components > 3) throw std::invalid_argument("lookup tables: shares have 2 or 3 components");
  LookupTables t;
  const double mid_step = 1.0 / 128.0;  // mid counts units of 2^(c - F) = 1/128
  t.exp_mid = table_of(bits_for(128 * components), [&](long i) { return encode(std::exp(-mid_step * i), kExpTableBits); });
  // top counts whole units; a carry makes it at least -components, so the last entries stand for -4..-1.
  constexpr int kTopBits = 8;
  t.exp_top = table_of(kTopBits, [&](long i) {
    const long top = i < (1L << kTopBits) - 4 ? i : i - (1L << kTopBits);
    return encode(std::exp(-static_cast<double>(top)), kExpTableBits);
  });
  t.reciprocal = mantissa_table(frac_bits, components, [](double m) { return 1.0 / m; });
  t.rsqrt = mantissa_table(frac_bits, components, [](double m) { return 1.0 / std::sqrt(m); });
  t.gelu = make_activation_table(gelu_reference, 10, 6, frac_bits, components);
  t.silu = make_activation_table(silu_reference, 10, 5, frac_bits, components);
  return t;
}

}  // namespace protocols::ops
