#include "protocols/common/exact_truncation.hpp"

#include <stdexcept>
#include <string>

namespace protocols {

void check_truncation_bits(int bits) {
  if (bits <= 0 || bits >= 62)
    throw std::invalid_argument("truncation by " + std::to_string(bits) + " bits: must be in (0, 62)");
}

mpc::RingMatrix truncated_share(const mpc::RingMatrix& c, const mpc::RingMatrix& r_low, const mpc::RingMatrix& r_msb,
                                int bits, bool public_part) {
  using mpc::u64;
  constexpr u64 kLow63 = (u64{1} << 63) - 1;
  const u64 carry_weight = u64{1} << (63 - bits);
  const u64 offset_after_shift = kTruncationOffset >> bits;
  mpc::RingMatrix out(c.rows(), c.cols());
  const u64* cp = c.data();
  const u64* lp = r_low.data();
  const u64* mp = r_msb.data();
  u64* op = out.data();
  for (Eigen::Index i = 0; i < c.size(); ++i) {
    const u64 c_msb = cp[i] >> 63;
    // share of w = c_msb + r_msb - 2 c_msb r_msb; the public c_msb goes to one party only
    u64 w = mp[i] * (1 - 2 * c_msb);
    u64 v = carry_weight * w - lp[i];
    if (public_part) v += ((cp[i] & kLow63) >> bits) + carry_weight * c_msb - offset_after_shift;
    op[i] = v;
  }
  return out;
}

}  // namespace protocols
