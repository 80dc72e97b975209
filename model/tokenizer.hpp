// GPT-2 byte-level BPE: text -> UTF-8 bytes -> printable byte symbols -> BPE merges -> ids.
// Loads the standard files (vocab.json + merges.txt, or GPT-2's original encoder.json + vocab.bpe).
// Special tokens such as <|endoftext|> are not recognised inside the text passed to encode();
// they are produced only by id (e.g. eos_id()). All methods are safe to call from several
// threads at once (the per-word cache of encode() is guarded by a mutex).
// A LLaMA SentencePiece tokenizer (tokenizer.model) is not supported.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace model {

class Tokenizer {
 public:
  // Looks for vocab.json + merges.txt, then encoder.json + vocab.bpe, in `dir`.
  static Tokenizer load(const std::filesystem::path& dir);
  static Tokenizer from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt);
  // From the file contents; `source` names them in error messages.
  static Tokenizer from_strings(std::string_view vocab_json, std::string_view merges_txt, const std::string& source);

  // Throws std::invalid_argument for malformed UTF-8 input.
  std::vector<int> encode(std::string_view text) const;
  // Concatenated token bytes; throws std::out_of_range for an id outside the vocabulary. The
  // result is raw bytes: a prefix of a sequence may end inside a multi-byte UTF-8 character.
  std::string decode(std::span<const int> ids) const;
  std::string token_bytes(int id) const;  // the bytes of one token
  const std::string& token_symbol(int id) const;  // the vocab.json key (byte-symbol form)

  int vocab_size() const { return static_cast<int>(id_to_symbol_.size()); }
  std::optional<int> id_of(const std::string& symbol) const;
  std::optional<int> eos_id() const { return id_of("<|endoftext|>"); }

 private:
  std::vector<std::string> bpe(const std::string& symbols) const;

  std::unordered_map<std::string, int> symbol_to_id_;
  std::vector<std::string> id_to_symbol_;
  std::unordered_map<std::string, int> merge_rank_;  // key: left + ' ' + right
  struct WordCache {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<int>> ids;
  };
  // Shared by copies: the cached results depend only on the (immutable) vocabulary and merges.
  std::shared_ptr<WordCache> cache_ = std::make_shared<WordCache>();
};

// GPT-2's reversible byte -> printable character map (as UTF-8 strings), and its inverse.
const std::vector<std::string>& byte_symbols();

}  // namespace model
