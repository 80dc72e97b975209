#include "eval/text_corpus.hpp"

#include "model/tokenizer.hpp"

#include <fstream>
#include <random>
#include <sstream>
#include <stdexcept>

namespace eval {

TextCorpus corpus_from_text(std::string_view text, const model::Tokenizer& tokenizer, const std::string& source) {
  TextCorpus corpus;
  corpus.sources.push_back(source);
  std::size_t start = 0;
  while (start < text.size()) {
    const std::size_t end = text.find('\n', start);
    const std::size_t stop = end == std::string_view::npos ? text.size() : end + 1;
    try {
      corpus.lines.push_back(tokenizer.encode(text.substr(start, stop - start)));
    } catch (const std::invalid_argument& e) {
      throw std::invalid_argument(source + ": " + e.what());
    }
    corpus.tokens.insert(corpus.tokens.end(), corpus.lines.back().begin(), corpus.lines.back().end());
    start = stop;
  }
  if (corpus.tokens.empty()) throw std::invalid_argument(source + ": the evaluation text holds no tokens");
  return corpus;
}

TextCorpus load_corpus(const std::vector<std::filesystem::path>& files, const model::Tokenizer& tokenizer) {
  if (files.empty()) throw std::invalid_argument("no evaluation text given");
  TextCorpus corpus;
  for (const auto& file : files) {
    std::ifstream in(file, std::ios::binary);
    if (!in) throw std::runtime_error("cannot read evaluation text " + file.string());
    std::ostringstream content;
    content << in.rdbuf();
    TextCorpus part = corpus_from_text(content.str(), tokenizer, file.string());
    corpus.sources.push_back(part.sources.front());
    corpus.lines.insert(corpus.lines.end(), part.lines.begin(), part.lines.end());
    corpus.tokens.insert(corpus.tokens.end(), part.tokens.begin(), part.tokens.end());
  }
  return corpus;
}

std::vector<std::vector<int>> spread_windows(const std::vector<int>& tokens, int length, int count) {
  if (length < 1 || count < 1) throw std::invalid_argument("windows need a positive length and count");
  const int available = static_cast<int>(tokens.size()) / length;
  if (available < count)
    throw std::invalid_argument("the evaluation text (" + std::to_string(tokens.size()) + " tokens) holds only " +
                                std::to_string(available) + " windows of " + std::to_string(length) + " tokens, " +
                                std::to_string(count) + " requested");
  std::vector<std::vector<int>> windows;
  for (int i = 0; i < count; ++i) {
    const std::size_t start = static_cast<std::size_t>(static_cast<long long>(i) * available / count) * length;
    windows.emplace_back(tokens.begin() + start, tokens.begin() + start + length);
  }
  return windows;
}

std::vector<std::vector<int>> random_windows(const std::vector<int>& tokens, int length, int count,
                                             std::uint64_t seed) {
  if (length < 1 || count < 0) throw std::invalid_argument("windows need a positive length");
  if (static_cast<int>(tokens.size()) < length)
    throw std::invalid_argument("the evaluation text (" + std::to_string(tokens.size()) +
                                " tokens) is shorter than one window of " + std::to_string(length));
  std::mt19937_64 rng(seed);
  const std::uint64_t starts = tokens.size() - static_cast<std::size_t>(length) + 1;
  std::vector<std::vector<int>> windows;
  for (int i = 0; i < count; ++i) {
    // Raw engine bits, not a distribution object, so every standard library picks the same starts.
    const std::size_t start = static_cast<std::size_t>(rng() % starts);
    windows.emplace_back(tokens.begin() + start, tokens.begin() + start + length);
  }
  return windows;
}

}  // namespace eval
