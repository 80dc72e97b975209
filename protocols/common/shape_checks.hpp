// Argument checks shared by the backends: a mismatch is a programming error above the protocol
// layer, reported with the operation's name and the offending shapes.
#pragma once

#include "protocols/protocol.hpp"

#include <cstddef>
#include <stdexcept>
#include <string>

namespace protocols {

inline std::string shape_text(Eigen::Index rows, Eigen::Index cols) {
  return std::to_string(rows) + "x" + std::to_string(cols);
}

inline void check_counts(std::size_t left, std::size_t right, const char* op) {
  if (left != right)
    throw std::invalid_argument(std::string(op) + ": " + std::to_string(left) + " left operands but " +
                                std::to_string(right) + " right operands");
}

inline void check_same_shape(Eigen::Index r1, Eigen::Index c1, Eigen::Index r2, Eigen::Index c2, const char* op) {
  if (r1 != r2 || c1 != c2)
    throw std::invalid_argument(std::string(op) + ": shapes differ (" + shape_text(r1, c1) + " vs " + shape_text(r2, c2) + ")");
}

inline void check_inner(Eigen::Index left_cols, Eigen::Index right_rows, const char* op) {
  if (left_cols != right_rows)
    throw std::invalid_argument(std::string(op) + ": inner dimensions differ (" + std::to_string(left_cols) + " vs " +
                                std::to_string(right_rows) + ")");
}

inline void check_columns(Eigen::Index new_cols, Eigen::Index existing_cols, const char* op) {
  if (new_cols != existing_cols)
    throw std::invalid_argument(std::string(op) + ": new rows have " + std::to_string(new_cols) +
                                " columns, the operand has " + std::to_string(existing_cols));
}

inline void check_input_value(const RingMatrix* value, Eigen::Index rows, Eigen::Index cols) {
  if (value == nullptr) throw std::invalid_argument("input: the owner must supply the value");
  check_same_shape(value->rows(), value->cols(), rows, cols, "input");
}

inline void check_fixed_state(const FixedOperand& w, const char* op) {
  if (!w.state) throw std::invalid_argument(std::string(op) + ": operand was not produced by fix() of this backend");
}

}  // namespace protocols
