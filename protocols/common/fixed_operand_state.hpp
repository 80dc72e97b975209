// Backend-private state behind FixedOperand::state.
#pragma once

#include "mpc/growing_rows.hpp"
#include "mpc/ring.hpp"

namespace protocols {

// Appends the rows of `bottom` below `top`, amortised (spare capacity, see GrowingRows).
inline void append_below(mpc::GrowingRows<mpc::u64>& top, const mpc::RingMatrix& bottom) { top.append(bottom); }

// 2PC party: E = W - B (public to P0 and P1). The party's share of W becomes, once fixed,
// M_i = [i == 0] E + B_i (M_0 + M_1 = W, a fresh sharing), kept in FixedOperand::value, so that
// x . W = D . M_0 + D . M_1 + A . E + A . B with D = x - A opened: the share and E are the only
// copies, the former share is not kept beside them.
struct TwoPartyFixedState {
  mpc::GrowingRows<mpc::u64> opened;
};

// Dealer: holds no share, so FixedOperand::value.first holds the full mask B (the operand's shape
// comes with it); this state only marks the operand as fixed by the dealer.
struct DealerFixedState {};

}  // namespace protocols
