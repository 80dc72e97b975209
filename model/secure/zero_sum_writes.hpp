// The weights that write into a GPT-2 residual stream (the attention output and MLP down
// projections and their biases) encoded so that every row sums to exactly zero in the ring.
//
// Every consumer of a GPT-2 residual stream is a LayerNorm, and LayerNorm(x) depends on x - mean(x)
// only, so subtracting each row's mean from these weights changes no output of the model. With the
// encoded rows summing to zero, a projection a . W sums to zero over the hidden dimension exactly
// (the ring product is exact), so the stream keeps the mean its embedding had: the secure engine
// computes that mean once per forward pass and every LayerNorm reuses it instead of computing its
// own (one truncation round fewer per LayerNorm; model/secure/secure_transformer.cpp). The
// truncation after each projection moves the mean by less than one unit in the last place, so the
// mean a LayerNorm uses is off by less than (number of writes before it) * 2^-F.
#pragma once

#include "mpc/fixed_point.hpp"
#include "mpc/ring.hpp"

namespace model::secure {

// Each row of m less its mean, encoded with F fraction bits and rounded so that the row's entries
// sum to 0 mod 2^64: every entry within one unit of F of its exact value (largest remainders).
mpc::RingMatrix encode_zero_sum_rows(const mpc::FloatMatrix& m, const mpc::FixedPoint& fp);

}  // namespace model::secure
