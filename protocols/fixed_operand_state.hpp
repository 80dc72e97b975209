// Backend-private state behind FixedOperand::state.
#pragma once

#include "mpc/ring.hpp"

namespace protocols {

// Appends the rows of `bottom` below `top` (an empty `top` takes the column count of `bottom`).
inline void append_below(mpc::RingMatrix& top, const mpc::RingMatrix& bottom) {
  const Eigen::Index old_rows = top.size() == 0 ? 0 : top.rows();
  mpc::RingMatrix grown(old_rows + bottom.rows(), bottom.cols());
  if (old_rows > 0) grown.topRows(old_rows) = top;
  grown.bottomRows(bottom.rows()) = bottom;
  top = std::move(grown);
}

// 2PC party: E = W - B (public to P0 and P1) and this party's share of the product operand,
// M_i = [i == 0] E + B_i, so that x . W = D . M_0 + D . M_1 + A . E + A . B with D = x - A opened.
struct TwoPartyFixedState {
  mpc::RingMatrix opened;
  mpc::RingMatrix combined;
};

// Dealer: the full mask B.
struct DealerFixedState {
  mpc::RingMatrix mask;
};

}  // namespace protocols
