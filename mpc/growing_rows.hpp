// A row-major matrix that grows by appended rows without copying its existing rows each time.
//
// The KV caches (plaintext and secret-shared) gain one row per head per decode step; an Eigen
// matrix has no spare capacity, so growing one copies the whole cache and briefly holds it twice.
// GrowingRows keeps its rows in a larger block and enlarges the block by a quarter (at least
// kMinGrowthRows rows) when it is full, or takes a known maximum up front with reserve, so an
// append copies only the new rows, amortised. A quarter rather than doubling: a cache of n rows
// that gains a few decode rows then carries n/4 spare rows, not n.
//
// It *is* an Eigen::Map of its live rows, so it reads like the matrix it replaces (rows(), row(),
// products, blocks, in-place writes); assigning an expression replaces the whole contents.
// Rows beyond rows() are never read or exposed.
#pragma once

#include <Eigen/Dense>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>
#include <utility>

namespace mpc {

template <class Scalar>
class GrowingRows : public Eigen::Map<Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> {
 public:
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using Base = Eigen::Map<Matrix>;

  GrowingRows() : Base(nullptr, 0, 0) {}
  // Takes over `m`'s storage (no copy when moved in); capacity == rows until the first append.
  GrowingRows(Matrix m) : Base(nullptr, 0, 0), storage_(std::move(m)) { reseat(storage_.rows()); }  // NOLINT
  template <class Derived>
  GrowingRows(const Eigen::MatrixBase<Derived>& m) : GrowingRows(Matrix(m)) {}  // NOLINT
  GrowingRows(const GrowingRows& o) : Base(nullptr, 0, 0), storage_(o.live()) { reseat(o.rows()); }
  GrowingRows(GrowingRows&& o) noexcept : Base(nullptr, 0, 0), storage_(std::move(o.storage_)) {
    reseat(o.rows());
    o.storage_ = Matrix();
    o.reseat(0);
  }
  ~GrowingRows() = default;

  GrowingRows& operator=(const GrowingRows& o) {
    if (this != &o) replace(Matrix(o.live()));
    return *this;
  }
  GrowingRows& operator=(GrowingRows&& o) noexcept {
    if (this != &o) {
      const Eigen::Index rows = o.rows();
      storage_ = std::move(o.storage_);
      reseat(rows);
      o.storage_ = Matrix();
      o.reseat(0);
    }
    return *this;
  }
  GrowingRows& operator=(Matrix m) {
    replace(std::move(m));
    return *this;
  }
  // Evaluated into a fresh matrix first, so the expression may read this object's own rows.
  template <class Derived>
  GrowingRows& operator=(const Eigen::MatrixBase<Derived>& e) {
    replace(Matrix(e));
    return *this;
  }

  static constexpr Eigen::Index kMinGrowthRows = 16;

  Eigen::Index capacity() const { return storage_.rows(); }

  // Makes room for `rows` rows in all, so that appends up to that size never reallocate.
  void reserve(Eigen::Index rows) {
    if (rows > capacity()) regrow(rows);
  }

  // Appends the rows of `bottom` (an empty matrix without columns takes bottom's column count).
  template <class Derived>
  void append(const Eigen::MatrixBase<Derived>& bottom) {
    if (this->rows() == 0 && this->cols() != bottom.cols()) replace(Matrix(0, bottom.cols()));
    if (bottom.cols() != this->cols())
      throw std::invalid_argument("GrowingRows::append: " + std::to_string(bottom.cols()) +
                                  " columns appended to a matrix of " + std::to_string(this->cols()));
    const Matrix added(bottom);  // before any regrow: `bottom` may be a view of these rows
    const Eigen::Index old_rows = this->rows(), needed = old_rows + added.rows();
    if (needed > capacity()) regrow(std::max(needed, capacity() + growth_for(capacity())));
    storage_.middleRows(old_rows, added.rows()) = added;
    reseat(needed);
  }

  // Keeps the first `rows` rows (the capacity stays).
  void truncate(Eigen::Index rows) {
    if (rows < 0 || rows > this->rows())
      throw std::out_of_range("GrowingRows::truncate: " + std::to_string(rows) + " rows of " +
                              std::to_string(this->rows()));
    reseat(rows);
  }

  // Lowers the capacity to `capacity` rows (at least rows()), copying the live rows into a block of
  // that size: returns the memory of rows dropped for good (a prompt-time eviction).
  void shrink_to(Eigen::Index capacity) {
    if (capacity < this->rows()) throw std::out_of_range("GrowingRows::shrink_to: below the live rows");
    if (capacity < this->capacity()) regrow(capacity);
  }
  // The spare rows an append would grow a block of `rows` rows by.
  static Eigen::Index growth_for(Eigen::Index rows) { return std::max(rows / 4, kMinGrowthRows); }

  // The live rows as a plain matrix (a copy).
  Matrix matrix() const { return live(); }

  // Hands the rows over as a plain matrix and leaves this empty: a move when there is no spare
  // capacity, a copy of the live rows otherwise.
  Matrix release() {
    Matrix out = capacity() == this->rows() ? std::move(storage_) : Matrix(live());
    storage_ = Matrix();
    reseat(0);
    return out;
  }

 private:
  auto live() const { return storage_.topRows(this->rows()); }

  void replace(Matrix m) {
    storage_ = std::move(m);
    reseat(storage_.rows());
  }

  void regrow(Eigen::Index capacity) {
    Matrix bigger(capacity, this->cols());
    bigger.topRows(this->rows()) = live();
    const Eigen::Index rows = this->rows();
    storage_ = std::move(bigger);
    reseat(rows);
  }

  // Points the Map at the first `rows` rows of the storage (Eigen's documented way to re-target a
  // Map is placement new; a Map has a trivial destructor).
  void reseat(Eigen::Index rows) { new (static_cast<Base*>(this)) Base(storage_.data(), rows, storage_.cols()); }

  Matrix storage_;
};

}  // namespace mpc
