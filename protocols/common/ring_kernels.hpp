// Ring products used by both backends, split over two threads when the product is large: uint64
// products are not vectorised by Eigen as well as floating point, and they are the main cost of
// every secure linear layer.
#pragma once

#include "mpc/ring.hpp"

namespace protocols {

// a . b
mpc::RingMatrix ring_product(mpc::RingView a, mpc::RingView b);
// a . b^T (rows of b are the output columns: q . K^T with K stored one key per row)
mpc::RingMatrix ring_product_transposed(mpc::RingView a, mpc::RingView b);

}  // namespace protocols
