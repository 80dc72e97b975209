#include "committed_tokenizer.hpp"

#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

namespace fuzz {
namespace {

constexpr int kCallsPerTokenizer = 4096;

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("fuzz set-up: cannot open " + path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

const model::Tokenizer& committed_tokenizer() {
  static const std::string dir = std::string(MPCACHE_SOURCE_DIR) + "/models/kjv-gpt2/";
  static const std::string vocab = read_file(dir + "vocab.json");
  static const std::string merges = read_file(dir + "merges.txt");
  static std::optional<model::Tokenizer> tokenizer;
  static int calls = 0;
  if (!tokenizer || ++calls % kCallsPerTokenizer == 0) tokenizer = model::Tokenizer::from_strings(vocab, merges, dir);
  return *tokenizer;
}

}  // namespace fuzz
