#include "protocols/fss/fixed_key_aes.hpp"

#include <openssl/evp.h>

#include <array>
#include <stdexcept>

namespace protocols::fss {

namespace {

// A public, fixed key: MMO's security rests on AES as an ideal cipher, not on a secret key.
constexpr unsigned char kKey[16] = {'m', 'p', 'c', 'a', 'c', 'h', 'e', '-', 'f', 's', 's', '-', 'p', 'r', 'g', '1'};
// Blocks encrypted per OpenSSL call: enough for AES-NI's pipeline, few enough that the cipher text
// sits in a stack buffer in L1 until it is xored with the input (no allocation per call).
constexpr std::size_t kChunkBlocks = 512;

}  // namespace

struct FixedKeyAes::Context {
  EVP_CIPHER_CTX* ctx = nullptr;
};

FixedKeyAes::FixedKeyAes() : ctx_(std::make_unique<Context>()) {
  ctx_->ctx = EVP_CIPHER_CTX_new();
  if (ctx_->ctx == nullptr || EVP_EncryptInit_ex(ctx_->ctx, EVP_aes_128_ecb(), nullptr, kKey, nullptr) != 1 ||
      EVP_CIPHER_CTX_set_padding(ctx_->ctx, 0) != 1)
    throw std::runtime_error("FSS: cannot set up AES-128 (OpenSSL)");
}

FixedKeyAes::~FixedKeyAes() { EVP_CIPHER_CTX_free(ctx_->ctx); }

void FixedKeyAes::hash(std::span<const Block> in, std::span<Block> out) {
  if (in.size() != out.size()) throw std::invalid_argument("FixedKeyAes::hash: input and output sizes differ");
  std::array<Block, kChunkBlocks> cipher;
  for (std::size_t start = 0; start < in.size(); start += kChunkBlocks) {
    const std::size_t n = std::min<std::size_t>(kChunkBlocks, in.size() - start);
    int written = 0;
    const auto* plain = reinterpret_cast<const unsigned char*>(in.data() + start);
    if (EVP_EncryptUpdate(ctx_->ctx, reinterpret_cast<unsigned char*>(cipher.data()), &written, plain,
                          static_cast<int>(n * sizeof(Block))) != 1 ||
        written != static_cast<int>(n * sizeof(Block)))
      throw std::runtime_error("FSS: AES-128 encryption failed (OpenSSL)");
    for (std::size_t i = 0; i < n; ++i) out[start + i] = cipher[i] ^ in[start + i];
  }
}

}  // namespace protocols::fss
