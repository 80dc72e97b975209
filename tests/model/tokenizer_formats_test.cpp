// The tokenizer formats of LLaMA-family checkpoints: SentencePiece tokenizer.model against Python's
// sentencepiece, the LLaMA-3 / Qwen2 / GPT-2 pre-tokenizer patterns against the `regex` module
// (both recorded by tools/tokenizer_reference.py), and Hugging Face tokenizer.json files: a GPT-2
// one built from the GPT-2 vocabulary must give the vocab.json loader's ids, a small LLaMA-3 style
// one hand-checked ids, and the formats this engine cannot run a clear refusal.
#include "model/byte_level_bpe.hpp"
#include "model/hf_tokenizer_json.hpp"
#include "model/pretokenizer.hpp"
#include "model/tokenizer.hpp"

#include "test_paths.hpp"

#include <gtest/gtest.h>
#include <unistd.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

namespace {

using model::PretokenizerPattern;
using model::Tokenizer;
using nlohmann::json;

const json& reference() {
  static const json r = json::parse(std::ifstream(model_test::data_dir() / "tokenizer_reference.json"));
  return r;
}

// A folder of this process's own (tests of several builds may run at once).
std::filesystem::path scratch_dir(const std::string& name) {
  return std::filesystem::temp_directory_path() / ("mpcache-" + name + "-" + std::to_string(::getpid()));
}

std::filesystem::path tiny_sentencepiece_dir() { return model_test::data_dir() / "tiny-sentencepiece"; }

TEST(SentencePieceTokenizer, EncodesAsTheReferenceImplementation) {
  const Tokenizer t = Tokenizer::load(tiny_sentencepiece_dir());
  EXPECT_EQ(t.vocab_size(), reference()["sentencepiece_pieces"].get<int>());
  EXPECT_NE(t.describe().find("SentencePiece"), std::string::npos) << t.describe();
  for (const json& c : reference()["sentencepiece"]) {
    const std::string text = c["text"];
    EXPECT_EQ(t.encode(text), c["ids"].get<std::vector<int>>()) << text;
  }
}

// SentencePiece's decoder drops the space its dummy prefix put before the first word; this one
// keeps it, so token-by-token decoding gives the same text.
TEST(SentencePieceTokenizer, DecodesToTheTextWithTheDummyPrefixSpace) {
  const Tokenizer t = Tokenizer::load(tiny_sentencepiece_dir());
  for (const json& c : reference()["sentencepiece"]) {
    const std::vector<int> ids = c["ids"];
    const std::string decoded = c["decoded"];
    EXPECT_EQ(t.decode(ids), decoded.empty() ? "" : " " + decoded) << decoded;
    std::string one_at_a_time;
    for (int id : ids) one_at_a_time += t.token_bytes(id);
    EXPECT_EQ(one_at_a_time, t.decode(ids));
  }
}

TEST(SentencePieceTokenizer, SpecialAndBytePieces) {
  const Tokenizer t = Tokenizer::load(tiny_sentencepiece_dir());
  EXPECT_EQ(t.bos_id(), 1);
  EXPECT_EQ(t.eos_id(), 2);
  EXPECT_EQ(t.id_of("<s>"), 1);
  EXPECT_EQ(t.id_of("no such piece"), std::nullopt);
  EXPECT_EQ(t.token_bytes(1), "");  // control pieces decode to nothing
  const auto newline = t.id_of("<0x0A>");
  ASSERT_TRUE(newline.has_value());
  EXPECT_EQ(t.token_bytes(*newline), "\n");
  EXPECT_THROW(t.token_bytes(t.vocab_size()), std::out_of_range);
  EXPECT_THROW(t.encode("bad \xC3 UTF-8"), std::invalid_argument);
}

TEST(SentencePieceTokenizer, ACorruptModelFileIsNamed) {
  const auto dir = scratch_dir("corrupt-spm");
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer.model") << "this is not a protobuf";
  try {
    Tokenizer::load(dir);
    ADD_FAILURE() << "a corrupt tokenizer.model must be refused";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("tokenizer.model"), std::string::npos) << e.what();
  }
  std::filesystem::remove_all(dir);
}

// The project's LLaMA model's tokenizer (no dummy prefix, identity normalisation, byte fallback).
TEST(SentencePieceTokenizer, KjvLlamaTokenizerEncodesAsPython) {
  const Tokenizer t = Tokenizer::load(model_test::source_dir() / "models/kjv-llama");
  for (const json& c : reference()["kjv_llama"]) {
    const std::string text = c["text"];
    EXPECT_EQ(t.encode(text), c["ids"].get<std::vector<int>>()) << text;
    EXPECT_EQ(t.decode(t.encode(text)), text);  // no dummy prefix: decoding gives the text back
  }
}

TEST(Pretokenizer, PatternsCutAsTheRegexModule) {
  const std::pair<const char*, PretokenizerPattern> patterns[] = {
      {"gpt2", PretokenizerPattern::gpt2}, {"llama3", PretokenizerPattern::llama3}, {"qwen2", PretokenizerPattern::qwen2}};
  for (const auto& [name, pattern] : patterns)
    for (const json& c : reference()["pretokenizer"][name]) {
      const std::string text = c["text"];
      EXPECT_EQ(model::pretokenize(text, pattern), c["pieces"].get<std::vector<std::string>>()) << name << ": " << text;
    }
}

// GPT-2's vocabulary and merges written as a tokenizer.json, in either merges format.
std::string gpt2_tokenizer_json(bool merges_as_pairs) {
  const json vocab = json::parse(std::ifstream(model_test::gpt2_tokenizer_dir() / "encoder.json"));
  json merges = json::array();
  std::ifstream bpe(model_test::gpt2_tokenizer_dir() / "vocab.bpe");
  std::string line;
  while (std::getline(bpe, line)) {
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    const auto space = line.find(' ');
    merges.push_back(merges_as_pairs ? json::array({line.substr(0, space), line.substr(space + 1)}) : json(line));
  }
  json root = {{"version", "1.0"},
               {"normalizer", nullptr},
               {"pre_tokenizer", {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", true}}},
               {"model", {{"type", "BPE"}, {"vocab", vocab}, {"merges", merges}}}};
  return root.dump();
}

TEST(HfTokenizerJson, Gpt2FileGivesTheVocabJsonLoadersIds) {
  const Tokenizer files = Tokenizer::load(model_test::gpt2_tokenizer_dir());
  const json encodings = json::parse(std::ifstream(model_test::data_dir() / "gpt2_encodings.json"));
  for (bool pairs : {false, true}) {
    const Tokenizer from_json(model::hf_tokenizer_from_json(gpt2_tokenizer_json(pairs), "", "gpt2 tokenizer.json"));
    EXPECT_EQ(from_json.vocab_size(), files.vocab_size());
    EXPECT_EQ(from_json.eos_id(), files.eos_id());
    for (const auto& [text, ids] : encodings.items()) EXPECT_EQ(from_json.encode(text), files.encode(text)) << text;
  }
}

// A LLaMA-3 style tokenizer.json: byte symbols, merges that build "123", "45" and "Ġthe", a whole
// token "Ġhello" that no merge reaches, and two added special tokens.
json llama3_style(bool ignore_merges, const std::string& regex_name = "llama3") {
  json vocab = json::object();
  for (const std::string& symbol : model::byte_symbols()) vocab[symbol] = vocab.size();
  for (const char* extra : {"12", "123", "45", "Ġt", "Ġth", "Ġthe", "Ġhello"}) vocab[extra] = vocab.size();
  const std::string llama3 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string qwen2 =
      R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
  const std::string regex = regex_name == "llama3" ? llama3 : regex_name == "qwen2" ? qwen2 : regex_name;
  const int first_added = static_cast<int>(vocab.size());
  return {{"normalizer", nullptr},
          {"pre_tokenizer",
           {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"}, {"pattern", {{"Regex", regex}}}, {"behavior", "Isolated"}, {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}}},
          {"added_tokens",
           {{{"id", first_added}, {"content", "<|begin_of_text|>"}, {"special", true}},
            {{"id", first_added + 1}, {"content", "<|end_of_text|>"}, {"special", true}}}},
          {"model",
           {{"type", "BPE"},
            {"vocab", vocab},
            {"merges", {"1 2", "12 3", "4 5", "Ġ t", "Ġt h", "Ġth e"}},
            {"ignore_merges", ignore_merges}}}};
}

Tokenizer from_json(const json& root, const std::string& config = "") {
  return Tokenizer(model::hf_tokenizer_from_json(root.dump(), config, "test tokenizer.json"));
}

TEST(HfTokenizerJson, Llama3StyleFileGroupsDigitsByThreeAndHonoursIgnoreMerges) {
  const Tokenizer t = from_json(llama3_style(true), R"({"bos_token": "<|begin_of_text|>", "eos_token": {"content": "<|end_of_text|>"}})");
  const auto id = [&](const std::string& symbol) { return t.id_of(symbol).value(); };
  EXPECT_EQ(t.encode("12345"), (std::vector<int>{id("123"), id("45")}));
  EXPECT_EQ(t.encode(" the"), (std::vector<int>{id("Ġthe")}));
  EXPECT_EQ(t.encode(" hello"), (std::vector<int>{id("Ġhello")}));  // whole token, no merge path
  EXPECT_EQ(t.bos_id(), id("<|begin_of_text|>"));
  EXPECT_EQ(t.eos_id(), id("<|end_of_text|>"));
  EXPECT_EQ(t.decode(t.encode("12345 the hello\n")), "12345 the hello\n");
  // Special tokens in the text are plain text, not the special id.
  const std::vector<int> injected = t.encode("<|end_of_text|>");
  EXPECT_EQ(std::count(injected.begin(), injected.end(), *t.eos_id()), 0);
}

TEST(HfTokenizerJson, WithoutIgnoreMergesAWholeTokenIsBuiltByMerges) {
  const Tokenizer t = from_json(llama3_style(false));
  EXPECT_EQ(t.encode(" hello").size(), 6u);  // "Ġ" "h" "e" "l" "l" "o": no merge reaches "Ġhello"
  EXPECT_EQ(t.eos_id(), t.id_of("<|end_of_text|>"));  // the family's end token without a config
}

TEST(HfTokenizerJson, Qwen2PatternCutsEveryDigit) {
  const Tokenizer t = from_json(llama3_style(true, "qwen2"));
  EXPECT_EQ(t.encode("12345").size(), 5u);
}

void expect_refused(const json& root, const std::string& why) {
  try {
    from_json(root);
    ADD_FAILURE() << "expected a refusal mentioning '" << why << "'";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
  }
}

TEST(HfTokenizerJson, FormatsItCannotRunAreRefusedWithTheReason) {
  expect_refused(llama3_style(true, R"(\p{L}+|\s+)"), "unsupported pre-tokenizer regex");
  json metaspace = llama3_style(true);
  metaspace["pre_tokenizer"] = {{"type", "Metaspace"}, {"replacement", "▁"}};
  expect_refused(metaspace, "tokenizer.model");
  json fallback = llama3_style(true);
  fallback["model"]["byte_fallback"] = true;
  expect_refused(fallback, "byte fallback");
  json wordpiece = llama3_style(true);
  wordpiece["model"]["type"] = "WordPiece";
  expect_refused(wordpiece, "WordPiece");
  json nfkc = llama3_style(true);
  nfkc["normalizer"] = {{"type", "NFKC"}};
  expect_refused(nfkc, "NFKC");
  json clash = llama3_style(true);
  clash["added_tokens"][0]["id"] = 0;
  expect_refused(clash, "is used by");
  expect_refused(json::array(), "not a JSON object");
}

TEST(HfTokenizerJson, NfcIsAppliedToAsciiTextAndOtherTextIsRefused) {
  json nfc = llama3_style(true);
  nfc["normalizer"] = {{"type", "NFC"}};
  const Tokenizer t = from_json(nfc);
  EXPECT_FALSE(t.encode("plain ascii").empty());
  EXPECT_THROW(t.encode("caf\xC3\xA9"), std::invalid_argument);
}

TEST(TokenizerLoad, PrefersTokenizerModelThenTokenizerJson) {
  const auto dir = scratch_dir("tokenizer-order");
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "tokenizer.json") << llama3_style(true).dump();
  EXPECT_NE(Tokenizer::load(dir).describe().find("LLaMA-3"), std::string::npos);
  std::filesystem::copy_file(tiny_sentencepiece_dir() / "tokenizer.model", dir / "tokenizer.model");
  EXPECT_NE(Tokenizer::load(dir).describe().find("SentencePiece"), std::string::npos);
  std::filesystem::remove_all(dir);
  EXPECT_THROW(Tokenizer::load(dir), std::runtime_error);
}

}  // namespace
