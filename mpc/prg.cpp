#include "mpc/prg.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace mpc {

namespace {

void ensure_sodium() {
  static const bool ready = [] {
    if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
    return true;
  }();
  (void)ready;
}

constexpr std::size_t kBlock = 64;

}  // namespace

Seed random_seed() {
  ensure_sodium();
  Seed s;
  randombytes_buf(s.data(), s.size());
  return s;
}

Prg::Prg(const Seed& seed) : key_(seed) { ensure_sodium(); }

void Prg::fill(std::span<std::uint8_t> out) {
  std::size_t pos = 0;
  const std::size_t from_buffer = std::min(buffered_, out.size());
  if (from_buffer > 0) {
    std::memcpy(out.data(), buffer_.data() + (kBlock - buffered_), from_buffer);
    buffered_ -= from_buffer;
    pos = from_buffer;
  }
  const std::size_t whole = (out.size() - pos) / kBlock * kBlock;
  if (whole > 0) {
    // The nonce is fixed (zero); uniqueness comes from the key, which is never reused across sessions.
    static const std::array<std::uint8_t, crypto_stream_chacha20_NONCEBYTES> nonce{};
    std::memset(out.data() + pos, 0, whole);
    crypto_stream_chacha20_xor_ic(out.data() + pos, out.data() + pos, whole, nonce.data(), block_counter_,
                                  key_.data());
    block_counter_ += whole / kBlock;
    pos += whole;
  }
  if (pos < out.size()) {
    static const std::array<std::uint8_t, crypto_stream_chacha20_NONCEBYTES> nonce{};
    buffer_.fill(0);
    crypto_stream_chacha20_xor_ic(buffer_.data(), buffer_.data(), kBlock, nonce.data(), block_counter_, key_.data());
    ++block_counter_;
    const std::size_t rest = out.size() - pos;
    std::memcpy(out.data() + pos, buffer_.data(), rest);
    buffered_ = kBlock - rest;
  }
}

void Prg::fill(std::span<u64> out) {
  fill(std::span<std::uint8_t>(reinterpret_cast<std::uint8_t*>(out.data()), out.size_bytes()));
}

RingMatrix Prg::random(Eigen::Index rows, Eigen::Index cols) {
  RingMatrix m(rows, cols);
  fill(std::span<u64>(m.data(), static_cast<std::size_t>(m.size())));
  return m;
}

u64 Prg::next_u64() {
  u64 v;
  fill(std::span<u64>(&v, 1));
  return v;
}

}  // namespace mpc
