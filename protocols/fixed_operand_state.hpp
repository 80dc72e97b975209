// Backend-private state behind FixedOperand::state.
#pragma once

#include "mpc/growing_rows.hpp"
#include "mpc/ring.hpp"

namespace protocols {

// Appends the rows of `bottom` below `top`, amortised (capacity doubling, see GrowingRows).
inline void append_below(mpc::GrowingRows<mpc::u64>& top, const mpc::RingMatrix& bottom) { top.append(bottom); }

// 2PC party: E = W - B (public to P0 and P1) and this party's share of the product operand,
// M_i = [i == 0] E + B_i, so that x . W = D . M_0 + D . M_1 + A . E + A . B with D = x - A opened.
struct TwoPartyFixedState {
  mpc::GrowingRows<mpc::u64> opened;
  mpc::GrowingRows<mpc::u64> combined;
};

// Dealer: the full mask B.
struct DealerFixedState {
  mpc::GrowingRows<mpc::u64> mask;
};

}  // namespace protocols
