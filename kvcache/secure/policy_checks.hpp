// One-line checks for the secure cache policies, so that a policy reads like its rule: each names
// the policy and what was wrong. Wrong arguments throw std::invalid_argument; a call out of order
// (a selection before any prefill, state that no longer covers the cache) std::logic_error.
#pragma once

#include "protocols/protocol.hpp"

#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace kvcache::secure::checks {

inline std::string message(std::string_view who, const std::string& what) { return std::string(who) + ": " + what; }

inline void expect_argument(bool ok, std::string_view who, const std::string& what) {
  if (!ok) throw std::invalid_argument(message(who, what));
}

inline void expect_state(bool ok, std::string_view who, const std::string& what) {
  if (!ok) throw std::logic_error(message(who, what));
}

// "<who>: <got> <what>, expected <want>" unless got == want.
inline void expect_count(std::string_view who, std::string_view what, long long got, long long want) {
  expect_argument(got == want, who, std::to_string(got) + " " + std::string(what) + ", expected " + std::to_string(want));
}

// State kept beside the cache (boxes, scores, a selection) must cover exactly its rows.
inline void expect_covers(std::string_view who, std::string_view state, int layer, long long covered, long long cache_rows) {
  expect_state(covered == cache_rows, who,
               std::string(state) + " of layer " + std::to_string(layer) + " cover " + std::to_string(covered) +
                   " rows, the cache holds " + std::to_string(cache_rows));
}

// Per-head rows of a decode step: `count` shares of 1 x cols each.
inline void expect_head_rows(std::string_view who, std::string_view what, std::span<const protocols::Share> rows,
                             long long count, Eigen::Index cols) {
  expect_count(who, what, static_cast<long long>(rows.size()), count);
  for (const protocols::Share& r : rows)
    expect_argument(r.rows() == 1 && r.cols() == cols, who, std::string(what) + " must be 1 x " + std::to_string(cols) + " each");
}

}  // namespace kvcache::secure::checks
