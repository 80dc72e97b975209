// What every tokenizer format implements behind model::Tokenizer (tokenizer.hpp): GPT-2 style
// byte-level BPE (vocab.json + merges.txt, or a Hugging Face tokenizer.json) and SentencePiece
// (tokenizer.model). Implementations are immutable after loading and safe to share between threads.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace model {

class TokenizerModel {
 public:
  virtual ~TokenizerModel() = default;

  // Throws std::invalid_argument for malformed UTF-8 input.
  virtual std::vector<int> encode(std::string_view text) const = 0;
  // The bytes a token stands for; decoding is their concatenation, so tokens can be shown one at
  // a time. Throws std::out_of_range for an id outside the vocabulary.
  virtual std::string token_bytes(int id) const = 0;
  // The token as the vocabulary file writes it (byte-symbol form, or the SentencePiece piece).
  virtual std::string token_symbol(int id) const = 0;
  virtual int vocab_size() const = 0;
  virtual std::optional<int> id_of(const std::string& symbol) const = 0;
  virtual std::optional<int> bos_id() const = 0;
  virtual std::optional<int> eos_id() const = 0;
  // One line naming the format and its file, for logs and errors.
  virtual std::string describe() const = 0;
};

// The id's range check shared by the implementations.
void check_token_id(int id, int vocab_size);

}  // namespace model
