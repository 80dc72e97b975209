#include "model/tokenizer.hpp"

#include "model/byte_level_bpe.hpp"
#include "model/hf_tokenizer_json.hpp"
#include "model/sentencepiece_tokenizer.hpp"
#include "model/text_file.hpp"

#include <nlohmann/json.hpp>

#include <sstream>
#include <stdexcept>

namespace model {
namespace {

std::vector<std::pair<std::string, int>> parse_vocab_json(std::string_view text, const std::string& source) {
  const nlohmann::json vocab = nlohmann::json::parse(text, nullptr, false);
  if (vocab.is_discarded() || !vocab.is_object()) throw std::invalid_argument(source + ": vocabulary is not a JSON object");
  std::vector<std::pair<std::string, int>> out;
  for (const auto& [symbol, id] : vocab.items()) {
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() >= static_cast<long long>(vocab.size()))
      throw std::invalid_argument(source + ": token '" + symbol + "' has an id outside 0.." + std::to_string(vocab.size() - 1));
    out.emplace_back(symbol, id.get<int>());
  }
  return out;
}

// merges.txt: an optional "#version" first line, then "left right" per line.
std::vector<std::pair<std::string, std::string>> parse_merges_txt(std::string_view text, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> merges;
  std::istringstream lines{std::string(text)};
  std::string line;
  int line_number = 0;
  while (std::getline(lines, line)) {
    ++line_number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (line_number == 1 && line.rfind("#version", 0) == 0)) continue;
    const auto merge = split_merge(line);
    if (!merge) throw std::invalid_argument(source + ": merges line " + std::to_string(line_number) + " is not 'left right'");
    merges.push_back(*merge);
  }
  return merges;
}

bool both_exist(const std::filesystem::path& dir, const char* a, const char* b) {
  return std::filesystem::exists(dir / a) && std::filesystem::exists(dir / b);
}

}  // namespace

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerModel> model) : model_(std::move(model)) {}

Tokenizer Tokenizer::load(const std::filesystem::path& dir) {
  if (std::filesystem::exists(dir / "tokenizer.model")) return Tokenizer(load_sentencepiece(dir / "tokenizer.model"));
  if (std::filesystem::exists(dir / "tokenizer.json")) return Tokenizer(load_hf_tokenizer_json(dir));
  if (both_exist(dir, "vocab.json", "merges.txt")) return from_files(dir / "vocab.json", dir / "merges.txt");
  if (both_exist(dir, "encoder.json", "vocab.bpe")) return from_files(dir / "encoder.json", dir / "vocab.bpe");
  throw std::runtime_error("no tokenizer in " + dir.string() +
                           " (looked for tokenizer.model, tokenizer.json, vocab.json + merges.txt, encoder.json + vocab.bpe)");
}

Tokenizer Tokenizer::from_files(const std::filesystem::path& vocab_json, const std::filesystem::path& merges_txt) {
  return from_strings(read_text_file(vocab_json, "tokenizer file"), read_text_file(merges_txt, "tokenizer file"),
                      vocab_json.string() + " / " + merges_txt.filename().string());
}

Tokenizer Tokenizer::from_strings(std::string_view vocab_json, std::string_view merges_txt, const std::string& source) {
  ByteLevelBpeSpec spec;
  spec.source = source;
  spec.vocab = parse_vocab_json(vocab_json, source);
  spec.merges = parse_merges_txt(merges_txt, source);
  for (const auto& [symbol, id] : spec.vocab)
    if (symbol == "<|endoftext|>") spec.eos_symbol = symbol;
  return Tokenizer(std::make_shared<ByteLevelBpe>(std::move(spec)));
}

std::string Tokenizer::decode(std::span<const int> ids) const {
  std::string out;
  for (int id : ids) out += model_->token_bytes(id);
  return out;
}

}  // namespace model
