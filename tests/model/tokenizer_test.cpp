#include "model/pretokenizer.hpp"
#include "model/tokenizer.hpp"
#include "model/byte_level_bpe.hpp"

#include "test_paths.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fstream>
#include <thread>

namespace {

using model::Tokenizer;

const Tokenizer& gpt2() {
  static const Tokenizer t = Tokenizer::load(model_test::gpt2_tokenizer_dir());
  return t;
}

TEST(Pretokenizer, SplitsLikeTheGpt2Pattern) {
  using V = std::vector<std::string>;
  EXPECT_EQ(model::pretokenize("Hello world"), (V{"Hello", " world"}));
  EXPECT_EQ(model::pretokenize("don't you'll"), (V{"don", "'t", " you", "'ll"}));
  EXPECT_EQ(model::pretokenize("x  y"), (V{"x", " ", " y"}));
  EXPECT_EQ(model::pretokenize("a\n\nb"), (V{"a", "\n", "\n", "b"}));
  EXPECT_EQ(model::pretokenize("end   "), (V{"end", "   "}));
  EXPECT_EQ(model::pretokenize("abc123 456!?"), (V{"abc", "123", " 456", "!?"}));
  EXPECT_EQ(model::pretokenize(" 'quote'"), (V{" '", "quote", "'"}));
  EXPECT_EQ(model::pretokenize("naïve café"), (V{"naïve", " café"}));
  EXPECT_EQ(model::pretokenize(""), V{});
}

TEST(Pretokenizer, ClassifiesCharacters) {
  EXPECT_EQ(model::classify(U'é'), model::CharClass::Letter);
  EXPECT_EQ(model::classify(U'Ж'), model::CharClass::Letter);
  EXPECT_EQ(model::classify(U'你'), model::CharClass::Letter);
  EXPECT_EQ(model::classify(U'²'), model::CharClass::Number);
  EXPECT_EQ(model::classify(U'\u00A0'), model::CharClass::Whitespace);
  EXPECT_EQ(model::classify(U'€'), model::CharClass::Other);
  EXPECT_EQ(model::classify(U'。'), model::CharClass::Other);
  EXPECT_EQ(model::classify(U'\U0001F642'), model::CharClass::Other);
}

TEST(Pretokenizer, RejectsInvalidUtf8) {
  EXPECT_THROW(model::pretokenize("ok \xC3"), std::invalid_argument);      // truncated sequence
  EXPECT_THROW(model::pretokenize("\xC0\xAF"), std::invalid_argument);     // overlong
  EXPECT_THROW(model::pretokenize("\xED\xA0\x80"), std::invalid_argument);  // surrogate
  EXPECT_THROW(model::pretokenize("\xFF"), std::invalid_argument);
}

TEST(Tokenizer, MatchesReferenceGpt2Encodings) {
  std::ifstream in(model_test::data_dir() / "gpt2_encodings.json");
  ASSERT_TRUE(in) << "missing tests/model/data/gpt2_encodings.json";
  const auto cases = nlohmann::json::parse(in);
  ASSERT_GE(cases.size(), 5u);
  for (const auto& c : cases) {
    const std::string text = c["text"];
    EXPECT_EQ(gpt2().encode(text), c["ids"].get<std::vector<int>>()) << text;
    EXPECT_EQ(gpt2().decode(c["ids"].get<std::vector<int>>()), text);
  }
}

TEST(Tokenizer, Gpt2VocabularyFacts) {
  EXPECT_EQ(gpt2().vocab_size(), 50257);
  EXPECT_EQ(gpt2().eos_id(), 50256);
  EXPECT_EQ(gpt2().token_symbol(262), "Ġthe");
  EXPECT_EQ(gpt2().token_bytes(262), " the");
  EXPECT_EQ(gpt2().decode(std::vector<int>{50256}), "<|endoftext|>");
}

TEST(Tokenizer, RoundTripsAsciiAndUtf8) {
  const std::vector<std::string> texts = {
      "The LORD is my shepherd; I shall not want.\n",
      "Tabs\tand  double  spaces,\r\nCRLF lines and trailing space ",
      "Ünïcödé: Ελληνικά, русский, 日本語のテキスト, العربية, हिन्दी, emoji 🙂👍🏽 and math ∀x∈ℝ",
      "\x01\x02 control bytes \x7F and NUL-free binaryish ~`|{}",
      std::string(300, 'a') + " long word"};
  for (const auto& text : texts) EXPECT_EQ(gpt2().decode(gpt2().encode(text)), text);
  const Tokenizer kjv = Tokenizer::load(model_test::kjv_model_dir());
  for (const auto& text : texts) EXPECT_EQ(kjv.decode(kjv.encode(text)), text);
}

TEST(Tokenizer, RejectsInvalidIdsAndText) {
  EXPECT_THROW(gpt2().decode(std::vector<int>{15496, 50257}), std::out_of_range);
  EXPECT_THROW(gpt2().decode(std::vector<int>{-1}), std::out_of_range);
  EXPECT_THROW(gpt2().encode("bad \xF0\x9F"), std::invalid_argument);
}

// A vocabulary of the 256 byte symbols plus `extra` tokens.
std::string byte_vocab(const std::vector<std::string>& extra) {
  nlohmann::json vocab = nlohmann::json::object();
  for (const auto& symbol : model::byte_symbols()) vocab[symbol] = vocab.size();
  for (const auto& symbol : extra) vocab[symbol] = vocab.size();
  return vocab.dump();
}

TEST(Tokenizer, AppliesMergesByRank) {
  const Tokenizer t = Tokenizer::from_strings(byte_vocab({"ab", "bc", "abc"}), "#version: 0.2\nb c\na b\nab c\n", "mini");
  // "b c" has the better rank, so "abc" becomes a + bc: the merge "ab c" never applies.
  EXPECT_EQ(t.encode("abc"), (std::vector<int>{t.id_of("a").value(), t.id_of("bc").value()}));
  EXPECT_EQ(t.encode("ab"), (std::vector<int>{t.id_of("ab").value()}));
}

TEST(Tokenizer, RejectsMalformedFiles) {
  EXPECT_THROW(Tokenizer::from_strings("[1]", "", "m"), std::invalid_argument);
  EXPECT_THROW(Tokenizer::from_strings(R"({"a": 0})", "", "m"), std::invalid_argument);  // byte symbols missing
  EXPECT_THROW(Tokenizer::from_strings(byte_vocab({}), "a b\n", "m"), std::invalid_argument);  // "ab" not in vocab
  EXPECT_THROW(Tokenizer::from_strings(byte_vocab({"ab"}), "a b c\n", "m"), std::invalid_argument);
  EXPECT_THROW(Tokenizer::from_strings(R"({"a": 0, "b": 0})", "", "m"), std::invalid_argument);  // duplicate id
  EXPECT_THROW(Tokenizer::load("/nonexistent"), std::runtime_error);
}

}  // namespace

namespace {

TEST(Tokenizer, EncodesConcurrently) {
  const Tokenizer t = Tokenizer::load(model_test::kjv_model_dir());
  std::string text;
  for (int i = 0; i < 50; ++i) text += "And he said unto them, Verily " + std::to_string(i) + " times.\n";
  const Tokenizer reference = Tokenizer::load(model_test::kjv_model_dir());
  const std::vector<int> expected = reference.encode(text);
  std::vector<std::vector<int>> results(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { results[i] = t.encode(text); });
  for (auto& thread : threads) thread.join();
  for (const auto& r : results) EXPECT_EQ(r, expected);
}

}  // namespace
