// The pseudorandom generator of the FSS keys: AES-128 with a fixed public key in the
// Matyas-Meyer-Oseas mode, H(x) = AES_K(x) xor x, evaluated on whole batches of blocks so that
// OpenSSL's AES-NI path pipelines them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>

namespace protocols::fss {

struct Block {
  std::uint64_t lo = 0, hi = 0;

  friend Block operator^(Block a, Block b) { return {a.lo ^ b.lo, a.hi ^ b.hi}; }
  Block& operator^=(Block b) { return *this = *this ^ b; }
  friend bool operator==(Block a, Block b) = default;
  int lsb() const { return static_cast<int>(lo & 1); }
  // Low bits cleared, for instance the control bits of a seed.
  Block without_low_bits(int bits) const { return {lo & ~((std::uint64_t{1} << bits) - 1), hi}; }
  Block with_low_bits(std::uint64_t bits) const { return {lo | bits, hi}; }
};

class FixedKeyAes {
 public:
  FixedKeyAes();
  ~FixedKeyAes();
  FixedKeyAes(const FixedKeyAes&) = delete;
  FixedKeyAes& operator=(const FixedKeyAes&) = delete;

  // out[i] = AES_K(in[i]) xor in[i]; in and out may be the same span.
  void hash(std::span<const Block> in, std::span<Block> out);

 private:
  struct Context;
  std::unique_ptr<Context> ctx_;
};

}  // namespace protocols::fss
