// Evaluation text: plain-text files (e.g. the held-out KJV books written by
// `tools/kjv_corpus.py --heldout`), tokenized line by line, and the windows cut from them.
#pragma once

#include "eval/needle.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace eval {

struct TextCorpus {
  std::vector<std::string> sources;  // file names, for the report
  TokenLines lines;                  // one entry per text line, newline included
  std::vector<int> tokens;           // every line's tokens, concatenated

  int size() const { return static_cast<int>(tokens.size()); }
};

// Throws std::invalid_argument for text without tokens or malformed UTF-8 (naming `source`).
TextCorpus corpus_from_text(std::string_view text, const model::Tokenizer& tokenizer, const std::string& source);
// Reads and concatenates the files; throws std::runtime_error for an unreadable file.
TextCorpus load_corpus(const std::vector<std::filesystem::path>& files, const model::Tokenizer& tokenizer);

// `count` windows of `length` tokens, spread evenly over the non-overlapping windows of the text
// so that every part of it is represented. Throws std::invalid_argument when the text holds fewer.
std::vector<std::vector<int>> spread_windows(const std::vector<int>& tokens, int length, int count);

// `count` windows of `length` tokens at seeded pseudo-random starts (may overlap each other).
std::vector<std::vector<int>> random_windows(const std::vector<int>& tokens, int length, int count,
                                             std::uint64_t seed);

}  // namespace eval
