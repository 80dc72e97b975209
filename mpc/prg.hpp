// Seeds and the pseudo-random generator every party expands correlated randomness from.
// ChaCha20 (libsodium) keyed by a 32-byte seed; the stream position advances with every draw,
// so two parties holding the same seed and drawing the same shapes in the same order agree.
#pragma once

#include "mpc/ring.hpp"

#include <array>
#include <cstdint>
#include <span>

namespace mpc {

using Seed = std::array<std::uint8_t, 32>;

// A fresh seed from the operating system's CSPRNG (libsodium randombytes).
Seed random_seed();

class Prg {
 public:
  explicit Prg(const Seed& seed);

  void fill(std::span<std::uint8_t> out);
  void fill(std::span<u64> out);
  RingMatrix random(Eigen::Index rows, Eigen::Index cols);
  u64 next_u64();

  // Number of 64-byte ChaCha20 blocks consumed so far.
  std::uint64_t blocks_used() const { return block_counter_; }

 private:
  Seed key_;
  std::uint64_t block_counter_ = 0;
  // Bytes left over from the last partial block, so that small draws do not waste stream.
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
};

}  // namespace mpc
