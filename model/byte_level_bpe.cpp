#include "model/byte_level_bpe.hpp"

#include <limits>
#include <stdexcept>

namespace model {
namespace {

// Splits one symbol string into its UTF-8 characters (the initial BPE parts).
std::vector<std::string> utf8_characters(const std::string& s) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < s.size();) {
    std::size_t length = 1;
    while (i + length < s.size() && (static_cast<unsigned char>(s[i + length]) & 0xC0) == 0x80) ++length;
    out.push_back(s.substr(i, length));
    i += length;
  }
  return out;
}

const std::unordered_map<std::string, unsigned char>& symbol_to_byte() {
  static const auto map = [] {
    std::unordered_map<std::string, unsigned char> m;
    for (int b = 0; b < 256; ++b) m[byte_symbols()[b]] = static_cast<unsigned char>(b);
    return m;
  }();
  return map;
}

std::string pattern_name(PretokenizerPattern p) {
  switch (p) {
    case PretokenizerPattern::gpt2:
      return "GPT-2";
    case PretokenizerPattern::llama3:
      return "LLaMA-3";
    case PretokenizerPattern::qwen2:
      return "Qwen2";
  }
  return "?";
}

}  // namespace

void check_token_id(int id, int vocab_size) {
  if (id < 0 || id >= vocab_size)
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                            std::to_string(vocab_size - 1) + ")");
}

std::optional<std::pair<std::string, std::string>> split_merge(const std::string& text) {
  const std::size_t space = text.find(' ');
  if (space == std::string::npos || space == 0 || space + 1 == text.size() || text.find(' ', space + 1) != std::string::npos)
    return std::nullopt;
  return std::pair{text.substr(0, space), text.substr(space + 1)};
}

const std::vector<std::string>& byte_symbols() {
  // Printable bytes map to themselves; the other 68 bytes map to U+0100.. in byte order, so that
  // every token is a printable string (GPT-2's bytes_to_unicode).
  static const std::vector<std::string> symbols = [] {
    std::vector<std::string> out(256);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      out[b] = encode_utf8(std::u32string(1, static_cast<char32_t>(printable ? b : 256 + extra++)));
    }
    return out;
  }();
  return symbols;
}

ByteLevelBpe::ByteLevelBpe(ByteLevelBpeSpec spec)
    : source_(std::move(spec.source)), pattern_(spec.pattern), ignore_merges_(spec.ignore_merges) {
  const std::size_t n = spec.vocab.size();
  id_to_symbol_.resize(n);
  std::vector<bool> seen(n, false);
  for (auto& [symbol, id] : spec.vocab) {
    if (id < 0 || static_cast<std::size_t>(id) >= n)
      throw std::invalid_argument(source_ + ": token '" + symbol + "' has an id outside 0.." + std::to_string(n - 1));
    if (seen[id]) throw std::invalid_argument(source_ + ": id " + std::to_string(id) + " is used by two tokens");
    if (!symbol_to_id_.emplace(symbol, id).second)
      throw std::invalid_argument(source_ + ": token '" + symbol + "' appears twice");
    seen[id] = true;
    id_to_symbol_[id] = symbol;
  }
  for (int b = 0; b < 256; ++b)
    if (!symbol_to_id_.count(byte_symbols()[b]))
      throw std::invalid_argument(source_ + ": vocabulary lacks the symbol of byte " + std::to_string(b));
  for (std::size_t rank = 0; rank < spec.merges.size(); ++rank) {
    const auto& [left, right] = spec.merges[rank];
    if (!symbol_to_id_.count(left + right))
      throw std::invalid_argument(source_ + ": merge " + std::to_string(rank + 1) + " produces '" + left + right +
                                  "', which is not in the vocabulary");
    merge_rank_.emplace(left + ' ' + right, static_cast<int>(rank));  // first occurrence keeps its rank
  }
  const auto special = [&](const std::optional<std::string>& symbol, const char* what) -> std::optional<int> {
    if (!symbol) return std::nullopt;
    const auto id = id_of(*symbol);
    if (!id) throw std::invalid_argument(source_ + ": the " + what + " token '" + *symbol + "' is not in the vocabulary");
    return id;
  };
  bos_ = special(spec.bos_symbol, "beginning-of-sequence");
  eos_ = special(spec.eos_symbol, "end-of-sequence");
}

std::vector<std::string> ByteLevelBpe::bpe(const std::string& symbols) const {
  std::vector<std::string> parts = utf8_characters(symbols);
  constexpr int kNoMerge = std::numeric_limits<int>::max();
  while (parts.size() > 1) {
    int best_rank = kNoMerge;
    std::size_t best = 0;
    for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
      auto it = merge_rank_.find(parts[i] + ' ' + parts[i + 1]);
      if (it != merge_rank_.end() && it->second < best_rank) {
        best_rank = it->second;
        best = i;
      }
    }
    if (best_rank == kNoMerge) break;
    // Merge every occurrence of the best pair, left to right, as the reference implementation does.
    const std::string left = parts[best], right = parts[best + 1];
    std::vector<std::string> merged;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i + 1 < parts.size() && parts[i] == left && parts[i + 1] == right) {
        merged.push_back(left + right);
        ++i;
      } else {
        merged.push_back(parts[i]);
      }
    }
    parts = std::move(merged);
  }
  return parts;
}

std::vector<int> ByteLevelBpe::encode_piece(const std::string& piece) const {
  std::string symbols;
  for (unsigned char byte : piece) symbols += byte_symbols()[byte];
  if (ignore_merges_) {
    if (auto whole = symbol_to_id_.find(symbols); whole != symbol_to_id_.end()) return {whole->second};
  }
  std::vector<int> ids;
  for (const std::string& part : bpe(symbols)) {
    auto it = symbol_to_id_.find(part);
    if (it == symbol_to_id_.end()) throw std::logic_error("BPE produced '" + part + "', which is not in the vocabulary");
    ids.push_back(it->second);
  }
  return ids;
}

std::vector<int> ByteLevelBpe::encode(std::string_view text) const {
  std::vector<int> ids;
  for (const std::string& piece : pretokenize(text, pattern_)) {
    {
      std::lock_guard lock(cache_mutex_);
      if (auto cached = cache_.find(piece); cached != cache_.end()) {
        ids.insert(ids.end(), cached->second.begin(), cached->second.end());
        continue;
      }
    }
    std::vector<int> piece_ids = encode_piece(piece);
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    std::lock_guard lock(cache_mutex_);
    cache_.emplace(piece, std::move(piece_ids));
  }
  return ids;
}

std::string ByteLevelBpe::token_symbol(int id) const {
  check_token_id(id, vocab_size());
  return id_to_symbol_[id];
}

std::string ByteLevelBpe::token_bytes(int id) const {
  check_token_id(id, vocab_size());
  std::string out;
  for (const std::string& ch : utf8_characters(id_to_symbol_[id])) {
    auto it = symbol_to_byte().find(ch);
    // Special tokens may contain characters outside the byte map; they decode to their own text.
    out += it == symbol_to_byte().end() ? ch : std::string(1, static_cast<char>(it->second));
  }
  return out;
}

std::optional<int> ByteLevelBpe::id_of(const std::string& symbol) const {
  auto it = symbol_to_id_.find(symbol);
  if (it == symbol_to_id_.end()) return std::nullopt;
  return it->second;
}

std::string ByteLevelBpe::describe() const {
  return "byte-level BPE (" + pattern_name(pattern_) + " pre-tokenizer, " + std::to_string(vocab_size()) +
         " tokens) from " + source_;
}

}  // namespace model
