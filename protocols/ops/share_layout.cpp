#include "protocols/ops/share_layout.hpp"

#include <stdexcept>

namespace protocols::ops {

Share zeros(const Protocol& proto, Eigen::Index rows, Eigen::Index cols) {
  Share out{RingMatrix::Zero(rows, cols), RingMatrix()};
  if (proto.backend() == Backend::ThreePartyReplicated) out.second = RingMatrix::Zero(rows, cols);
  return out;
}

Share constant(const Protocol& proto, const RingMatrix& value) {
  return proto.add_public(zeros(proto, value.rows(), value.cols()), value);
}

Share columns(const Share& x, Eigen::Index first, Eigen::Index count) {
  if (first < 0 || count < 0 || first + count > x.cols()) throw std::out_of_range("columns: range outside the matrix");
  return map_components(x, [&](const RingMatrix& m) -> RingMatrix { return m.middleCols(first, count); });
}

Share rows_of(const Share& x, Eigen::Index first, Eigen::Index count) {
  if (first < 0 || count < 0 || first + count > x.rows()) throw std::out_of_range("rows_of: range outside the matrix");
  return map_components(x, [&](const RingMatrix& m) -> RingMatrix { return m.middleRows(first, count); });
}

Share rows_of(const GrowingShare& x, Eigen::Index first, Eigen::Index count) {
  if (first < 0 || count < 0 || first + count > x.rows()) throw std::out_of_range("rows_of: range outside the matrix");
  Share out{x.first.middleRows(first, count), RingMatrix()};
  if (x.second.size() > 0) out.second = x.second.middleRows(first, count);
  return out;
}

Share gather_columns(const Share& x, const ColumnIndices& cols) {
  for (auto c : cols) {
    if (c < 0 || c >= x.cols()) throw std::out_of_range("gather_columns: column index outside the matrix");
  }
  return map_components(x, [&](const RingMatrix& m) -> RingMatrix {
    RingMatrix out(m.rows(), static_cast<Eigen::Index>(cols.size()));
    for (std::size_t j = 0; j < cols.size(); ++j) out.col(static_cast<Eigen::Index>(j)) = m.col(cols[j]);
    return out;
  });
}

namespace {
RingMatrix concat(std::span<const RingMatrix* const> parts, bool horizontal) {
  Eigen::Index rows = 0, cols = 0;
  for (const auto* p : parts) {
    if (horizontal) {
      rows = p->rows();
      cols += p->cols();
    } else {
      cols = p->cols();
      rows += p->rows();
    }
  }
  RingMatrix out(rows, cols);
  Eigen::Index offset = 0;
  for (const auto* p : parts) {
    if (horizontal) {
      if (p->rows() != rows) throw std::invalid_argument("concat_columns: row counts differ");
      out.middleCols(offset, p->cols()) = *p;
      offset += p->cols();
    } else {
      if (p->cols() != cols) throw std::invalid_argument("concat_rows: column counts differ");
      out.middleRows(offset, p->rows()) = *p;
      offset += p->rows();
    }
  }
  return out;
}

Share concat_shares(std::span<const Share> parts, bool horizontal) {
  if (parts.empty()) throw std::invalid_argument("concat: nothing to concatenate");
  std::vector<const RingMatrix*> firsts, seconds;
  for (const auto& p : parts) {
    firsts.push_back(&p.first);
    seconds.push_back(&p.second);
  }
  Share out{concat(firsts, horizontal), RingMatrix()};
  if (parts.front().second.size() > 0) out.second = concat(seconds, horizontal);
  return out;
}
}  // namespace

Share concat_columns(std::span<const Share> parts) { return concat_shares(parts, true); }
Share concat_rows(std::span<const Share> parts) { return concat_shares(parts, false); }

Share broadcast_column(const Share& x, Eigen::Index cols) {
  if (x.cols() != 1) throw std::invalid_argument("broadcast_column: expects a single column");
  return map_components(x, [cols](const RingMatrix& m) -> RingMatrix { return m.replicate(1, cols); });
}

Share row_sum(const Share& x) {
  return map_components(x, [](const RingMatrix& m) -> RingMatrix { return m.rowwise().sum(); });
}

Share reshape(const Share& x, Eigen::Index rows, Eigen::Index cols) {
  if (rows * cols != x.rows() * x.cols()) throw std::invalid_argument("reshape: element count changes");
  return map_components(x, [rows, cols](const RingMatrix& m) -> RingMatrix {
    return Eigen::Map<const RingMatrix>(m.data(), rows, cols);
  });
}

}  // namespace protocols::ops
