// The same local map on every component of a share, arithmetic (Share) or boolean (BoolShare):
// the local operations of both backends (sums, products by public values, slicing, bit shifts)
// act on each component alike, so one helper serves them all. A component that is absent (the
// empty `second` of a 2PC or dealer share) stays absent.
#pragma once

#include "mpc/ring.hpp"

#include <concepts>

namespace protocols {

template <class S>
concept ShareComponents = requires(S s) {
  { s.first } -> std::convertible_to<const mpc::RingMatrix&>;
  { s.second } -> std::convertible_to<const mpc::RingMatrix&>;
};

// f(component) for each component of x.
template <ShareComponents S, class F>
S map_components(const S& x, F f) {
  S out;
  out.first = f(x.first);
  if (x.second.size() > 0) out.second = f(x.second);
  return out;
}

// f(x's component, y's component) for each pair of components, e.g. sums of two shares.
template <ShareComponents S, class F>
S map_components(const S& x, const S& y, F f) {
  S out;
  out.first = f(x.first, y.first);
  if (x.second.size() > 0) out.second = f(x.second, y.second);
  return out;
}

}  // namespace protocols
