// Byte-level BPE as GPT-2, LLaMA-3 and Qwen ship it: text -> pre-tokenizer pieces -> UTF-8 bytes ->
// printable byte symbols -> merges by rank -> ids. Built from a vocabulary and a merge list, which
// come from vocab.json + merges.txt (tokenizer.cpp) or from a tokenizer.json (hf_tokenizer_json.hpp).
// Special (added) tokens are not recognised inside the text passed to encode(); they are produced
// only by id (e.g. eos_id()), so a prompt cannot inject them.
#pragma once

#include "model/pretokenizer.hpp"
#include "model/tokenizer_model.hpp"

#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace model {

struct ByteLevelBpeSpec {
  std::string source;  // the file(s), for messages
  std::vector<std::pair<std::string, int>> vocab;  // symbol -> id, ids dense from 0
  std::vector<std::pair<std::string, std::string>> merges;  // in rank order
  PretokenizerPattern pattern = PretokenizerPattern::gpt2;
  // LLaMA-3's "ignore_merges": a piece that is a whole vocabulary entry is that token, unmerged.
  bool ignore_merges = false;
  std::optional<std::string> bos_symbol, eos_symbol;
};

class ByteLevelBpe : public TokenizerModel {
 public:
  // Throws std::invalid_argument naming spec.source for duplicate or out-of-range ids, a missing
  // byte symbol, or a merge whose result is not in the vocabulary.
  explicit ByteLevelBpe(ByteLevelBpeSpec spec);

  std::vector<int> encode(std::string_view text) const override;
  std::string token_bytes(int id) const override;
  std::string token_symbol(int id) const override;
  int vocab_size() const override { return static_cast<int>(id_to_symbol_.size()); }
  std::optional<int> id_of(const std::string& symbol) const override;
  std::optional<int> bos_id() const override { return bos_; }
  std::optional<int> eos_id() const override { return eos_; }
  std::string describe() const override;

 private:
  std::vector<std::string> bpe(const std::string& symbols) const;
  std::vector<int> encode_piece(const std::string& piece) const;

  std::string source_;
  PretokenizerPattern pattern_;
  bool ignore_merges_;
  std::unordered_map<std::string, int> symbol_to_id_;
  std::vector<std::string> id_to_symbol_;
  std::unordered_map<std::string, int> merge_rank_;  // key: left + ' ' + right
  std::optional<int> bos_, eos_;
  // Results per piece: they depend only on the (immutable) vocabulary and merges.
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int>> cache_;
};

// A merge written as "left right" (merges.txt lines, tokenizer.json strings): the two symbols, or
// nothing when the text is not exactly two non-empty parts separated by one space.
std::optional<std::pair<std::string, std::string>> split_merge(const std::string& text);

// GPT-2's reversible byte -> printable character map (as UTF-8 strings).
const std::vector<std::string>& byte_symbols();

}  // namespace model
