#include "model/tokenizer.hpp"

#include "model/pretokenizer.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>

namespace model {
namespace {

std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open tokenizer file " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

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

}  // namespace

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

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  if (std::filesystem::exists(dir / "vocab.json") && std::filesystem::exists(dir / "merges.txt"))
    return from_files(dir / "vocab.json", dir / "merges.txt");
  if (std::filesystem::exists(dir / "encoder.json") && std::filesystem::exists(dir / "vocab.bpe"))
    return from_files(dir / "encoder.json", dir / "vocab.bpe");
  throw std::runtime_error("no vocab.json + merges.txt or encoder.json + vocab.bpe in " + dir.string());
}

Tokenizer Tokenizer::from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt) {
  return from_strings(read_text(vocab_json), read_text(merges_txt), vocab_json.string() + " / " + merges_txt.filename().string());
}

Tokenizer Tokenizer::from_strings(std::string_view vocab_json, std::string_view merges_txt, const std::string& source) {
  const nlohmann::json vocab = nlohmann::json::parse(vocab_json, nullptr, false);
  if (vocab.is_discarded() || !vocab.is_object()) throw std::invalid_argument(source + ": vocabulary is not a JSON object");
  Tokenizer t;
  t.id_to_symbol_.resize(vocab.size());
  std::vector<bool> seen(vocab.size(), false);
  for (const auto& [symbol, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() >= static_cast<long long>(vocab.size()))
      throw std::invalid_argument(source + ": token '" + symbol + "' has an id outside 0.." + std::to_string(vocab.size() - 1));
    const int index = id.get<int>();
    if (seen[index]) throw std::invalid_argument(source + ": id " + std::to_string(index) + " is used by two tokens");
    seen[index] = true;
    t.id_to_symbol_[index] = symbol;
    t.symbol_to_id_[symbol] = index;
  }
  for (int b = 0; b < 256; ++b)
    if (!t.symbol_to_id_.count(byte_symbols()[b]))
      throw std::invalid_argument(source + ": vocabulary lacks the symbol of byte " + std::to_string(b));

  std::istringstream lines{std::string(merges_txt)};
  std::string line;
  int line_number = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
    const std::size_t space = line.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == line.size() || line.find(' ', space + 1) != std::string::npos)
      throw std::invalid_argument(source + ": merges line " + std::to_string(line_number) + " is not 'left right'");
    const std::string merged = line.substr(0, space) + line.substr(space + 1);
    if (!t.symbol_to_id_.count(merged))
      throw std::invalid_argument(source + ": merges line " + std::to_string(line_number) + " produces '" + merged +
                                  "', which is not in the vocabulary");
    t.merge_rank_.emplace(line, static_cast<int>(t.merge_rank_.size()));  // first occurrence keeps its rank
  }
  return t;
}

std::vector<std::string> Tokenizer::bpe(const std::string& symbols) const {
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

std::vector<int> Tokenizer::encode(std::string_view text) const {
  std::vector<int> ids;
  for (const std::string& piece : pretokenize(text)) {
    {
      std::lock_guard lock(cache_->mutex);
      auto cached = cache_->ids.find(piece);
      if (cached != cache_->ids.end()) {
        ids.insert(ids.end(), cached->second.begin(), cached->second.end());
        continue;
      }
    }
    std::string symbols;
    for (unsigned char byte : piece) symbols += byte_symbols()[byte];
    std::vector<int> piece_ids;
    for (const std::string& part : bpe(symbols)) {
      auto it = symbol_to_id_.find(part);
      if (it == symbol_to_id_.end()) throw std::logic_error("BPE produced '" + part + "', which is not in the vocabulary");
      piece_ids.push_back(it->second);
    }
    ids.insert(ids.end(), piece_ids.begin(), piece_ids.end());
    std::lock_guard lock(cache_->mutex);
    cache_->ids.emplace(piece, std::move(piece_ids));
  }
  return ids;
}

const std::string& Tokenizer::token_symbol(int id) const {
  if (id < 0 || id >= vocab_size())
    throw std::out_of_range("token id " + std::to_string(id) + " is outside the vocabulary (0.." + std::to_string(vocab_size() - 1) + ")");
  return id_to_symbol_[id];
}

std::string Tokenizer::token_bytes(int id) const {
  std::string out;
  for (const std::string& ch : utf8_characters(token_symbol(id))) {
    auto it = symbol_to_byte().find(ch);
    // Special tokens may contain characters outside the byte map; they decode to their own text.
    out += it == symbol_to_byte().end() ? ch : std::string(1, static_cast<char>(it->second));
  }
  return out;
}

std::string Tokenizer::decode(std::span<const int> ids) const {
  std::string out;
  for (int id : ids) out += token_bytes(id);
  return out;
}

std::optional<int> Tokenizer::id_of(const std::string& symbol) const {
  auto it = symbol_to_id_.find(symbol);
  if (it == symbol_to_id_.end()) return std::nullopt;
  return it->second;
}

}  // namespace model
