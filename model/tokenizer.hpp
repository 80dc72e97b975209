// The tokenizer of a model folder, whatever its format:
//   - tokenizer.model: SentencePiece (LLaMA-1/2, Mistral, and this project's kjv-llama), through
//     Debian's libsentencepiece (sentencepiece_tokenizer.hpp);
//   - tokenizer.json: a Hugging Face byte-level BPE (LLaMA-3, Qwen2, GPT-2; hf_tokenizer_json.hpp);
//   - vocab.json + merges.txt, or GPT-2's original encoder.json + vocab.bpe.
// Special tokens such as <|endoftext|> are not recognised inside the text passed to encode();
// they are produced only by id (e.g. eos_id()). A Tokenizer is a cheap handle: copies share one
// immutable model, and all methods are safe to call from several threads at once.
#pragma once

#include "model/tokenizer_model.hpp"

#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace model {

class Tokenizer {
 public:
  // Looks in `dir` for tokenizer.model, then tokenizer.json, then vocab.json + merges.txt, then
  // encoder.json + vocab.bpe; throws std::runtime_error naming what was looked for.
  static Tokenizer load(const std::filesystem::path& dir);
  // GPT-2 style files (vocab.json + merges.txt or encoder.json + vocab.bpe).
  static Tokenizer from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt);
  // From the contents of those files; `source` names them in error messages.
  static Tokenizer from_strings(std::string_view vocab_json, std::string_view merges_txt, const std::string& source);
  explicit Tokenizer(std::shared_ptr<const TokenizerModel> model);

  // Throws std::invalid_argument for malformed UTF-8 input.
  std::vector<int> encode(std::string_view text) const { return model_->encode(text); }
  // Concatenated token bytes; throws std::out_of_range for an id outside the vocabulary. The
  // result is raw bytes: a prefix of a sequence may end inside a multi-byte UTF-8 character.
  std::string decode(std::span<const int> ids) const;
  std::string token_bytes(int id) const { return model_->token_bytes(id); }
  std::string token_symbol(int id) const { return model_->token_symbol(id); }

  int vocab_size() const { return model_->vocab_size(); }
  std::optional<int> id_of(const std::string& symbol) const { return model_->id_of(symbol); }
  std::optional<int> bos_id() const { return model_->bos_id(); }
  std::optional<int> eos_id() const { return model_->eos_id(); }
  std::string describe() const { return model_->describe(); }

 private:
  std::shared_ptr<const TokenizerModel> model_;
};

}  // namespace model
