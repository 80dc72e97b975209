#include "model/hf_tokenizer_json.hpp"

#include "model/byte_level_bpe.hpp"
#include "model/text_file.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <stdexcept>

namespace model {
namespace {

using nlohmann::json;

[[noreturn]] void refuse(const std::string& source, const std::string& why) {
  throw std::invalid_argument(source + ": " + why);
}

std::string type_of(const json& node) { return node.is_object() ? node.value("type", std::string()) : std::string(); }

// A Split pre-tokenizer as LLaMA-3 and Qwen2 write it: a known regex, isolated, not inverted.
PretokenizerPattern split_pattern(const json& split, const std::string& source) {
  const json& pattern = split.value("pattern", json::object());
  if (!pattern.contains("Regex") || !pattern["Regex"].is_string())
    refuse(source, "the Split pre-tokenizer has no regex pattern");
  if (split.value("behavior", std::string()) != "Isolated" || split.value("invert", false))
    refuse(source, "only an isolating, non-inverted Split pre-tokenizer is supported");
  const auto known = pattern_of_regex(pattern["Regex"].get<std::string>());
  if (!known) refuse(source, "unsupported pre-tokenizer regex " + pattern["Regex"].dump() + " (supported: GPT-2, LLaMA-3, Qwen2)");
  return *known;
}

PretokenizerPattern pretokenizer_pattern(const json& pre, const std::string& source) {
  const std::string type = type_of(pre);
  if (type == "ByteLevel") {
    if (!pre.value("use_regex", true)) refuse(source, "a ByteLevel pre-tokenizer without its regex is not supported");
    if (pre.value("add_prefix_space", false)) refuse(source, "ByteLevel with add_prefix_space is not supported");
    return PretokenizerPattern::gpt2;
  }
  if (type == "Sequence") {
    const json& steps = pre.value("pretokenizers", json::array());
    if (steps.size() == 2 && type_of(steps[0]) == "Split" && type_of(steps[1]) == "ByteLevel" &&
        !steps[1].value("use_regex", true) && !steps[1].value("add_prefix_space", false))
      return split_pattern(steps[0], source);
    refuse(source, "unsupported pre-tokenizer sequence (supported: Split regex then ByteLevel)");
  }
  if (type == "Metaspace") refuse(source, "a Metaspace (SentencePiece-style) pre-tokenizer: use the folder's tokenizer.model");
  refuse(source, "unsupported pre-tokenizer '" + (type.empty() ? std::string("none") : type) + "'");
}

std::vector<std::pair<std::string, std::string>> merges_of(const json& merges, const std::string& source) {
  std::vector<std::pair<std::string, std::string>> out;
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
      continue;
    }
    const auto merge = split_merge(m.is_string() ? m.get<std::string>() : std::string());
    if (!merge) refuse(source, "merge " + std::to_string(i + 1) + " is neither 'left right' nor [left, right]");
    out.push_back(*merge);
  }
  return out;
}

// model.vocab plus the added tokens (which may lie beyond it), as symbol -> id pairs.
std::vector<std::pair<std::string, int>> vocab_of(const json& root, const std::string& source) {
  std::vector<std::pair<std::string, int>> vocab;
  std::unordered_map<int, std::string> by_id;
  const json& added_tokens = root.value("added_tokens", json::array());
  // Ids are dense, so none can reach the number of entries.
  const long long entries = static_cast<long long>(root["model"]["vocab"].size() + added_tokens.size());
  const auto add = [&](const std::string& symbol, const json& id) {
    if (!id.is_number_integer() || id.get<long long>() < 0 || id.get<long long>() >= entries)
      refuse(source, "token '" + symbol + "' has no id in 0.." + std::to_string(entries - 1));
    const int value = id.get<int>();
    if (auto [it, fresh] = by_id.emplace(value, symbol); !fresh) {
      if (it->second == symbol) return;  // an added token that repeats its vocabulary entry
      refuse(source, "id " + std::to_string(value) + " is used by '" + it->second + "' and '" + symbol + "'");
    }
    vocab.emplace_back(symbol, value);
  };
  for (const auto& [symbol, id] : root["model"]["vocab"].items()) add(symbol, id);
  for (const json& added : added_tokens) {
    if (!added.is_object() || !added.contains("content") || !added["content"].is_string() || !added.contains("id"))
      refuse(source, "an added token lacks its id or content");
    add(added["content"].get<std::string>(), added["id"]);
  }
  return vocab;
}

// tokenizer_config.json writes a special token as "text" or {"content": "text", ...}.
std::optional<std::string> special_token(const json& config, const char* key) {
  if (!config.is_object() || !config.contains(key)) return std::nullopt;
  const json& token = config[key];
  if (token.is_string()) return token.get<std::string>();
  if (token.is_object() && token.contains("content") && token["content"].is_string()) return token["content"].get<std::string>();
  return std::nullopt;
}

// Without tokenizer_config.json: the end-of-text token of the usual families, if present.
std::optional<std::string> conventional_eos(const std::vector<std::pair<std::string, int>>& vocab) {
  for (const char* name : {"<|end_of_text|>", "<|endoftext|>", "</s>"})
    for (const auto& entry : vocab)
      if (entry.first == name) return entry.first;
  return std::nullopt;
}

// NFC leaves ASCII unchanged; other text would need the Unicode tables, which are not linked in.
class AsciiOnlyNfc : public TokenizerModel {
 public:
  explicit AsciiOnlyNfc(std::shared_ptr<const TokenizerModel> inner) : inner_(std::move(inner)) {}
  std::vector<int> encode(std::string_view text) const override {
    if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; }))
      throw std::invalid_argument(inner_->describe() +
                                  " normalises text to NFC, which is supported for ASCII text only; this text is not ASCII");
    return inner_->encode(text);
  }
  std::string token_bytes(int id) const override { return inner_->token_bytes(id); }
  std::string token_symbol(int id) const override { return inner_->token_symbol(id); }
  int vocab_size() const override { return inner_->vocab_size(); }
  std::optional<int> id_of(const std::string& symbol) const override { return inner_->id_of(symbol); }
  std::optional<int> bos_id() const override { return inner_->bos_id(); }
  std::optional<int> eos_id() const override { return inner_->eos_id(); }
  std::string describe() const override { return inner_->describe() + ", NFC for ASCII text"; }

 private:
  std::shared_ptr<const TokenizerModel> inner_;
};

std::shared_ptr<const TokenizerModel> parse_tokenizer_json(std::string_view tokenizer_json,
                                                           std::string_view tokenizer_config_json, const std::string& source) {
  const json root = json::parse(tokenizer_json, nullptr, false);
  if (root.is_discarded() || !root.is_object()) refuse(source, "not a JSON object");
  const json& model = root.value("model", json::object());
  if (type_of(model) != "BPE") refuse(source, "model type '" + type_of(model) + "' is not supported (byte-level BPE only)");
  if (model.value("byte_fallback", false)) refuse(source, "a BPE with byte fallback (SentencePiece style): use the folder's tokenizer.model");
  if (!model.contains("vocab") || !model["vocab"].is_object()) refuse(source, "model.vocab is not an object");
  const std::string normalizer = root.contains("normalizer") ? type_of(root["normalizer"]) : "";
  if (!normalizer.empty() && normalizer != "NFC") refuse(source, "unsupported normalizer '" + normalizer + "'");

  ByteLevelBpeSpec spec;
  spec.source = source;
  spec.pattern = pretokenizer_pattern(root.value("pre_tokenizer", json()), source);
  spec.vocab = vocab_of(root, source);
  spec.merges = merges_of(model.value("merges", json::array()), source);
  spec.ignore_merges = model.value("ignore_merges", false);
  const json config = json::parse(tokenizer_config_json.empty() ? std::string_view("{}") : tokenizer_config_json, nullptr, false);
  if (config.is_discarded()) refuse(source, "tokenizer_config.json is not valid JSON");
  spec.bos_symbol = special_token(config, "bos_token");
  spec.eos_symbol = special_token(config, "eos_token");
  if (!spec.eos_symbol) spec.eos_symbol = conventional_eos(spec.vocab);
  auto bpe = std::make_shared<ByteLevelBpe>(std::move(spec));
  if (normalizer == "NFC") return std::make_shared<AsciiOnlyNfc>(std::move(bpe));
  return bpe;
}

}  // namespace

std::shared_ptr<const TokenizerModel> hf_tokenizer_from_json(std::string_view tokenizer_json,
                                                             std::string_view tokenizer_config_json,
                                                             const std::string& source) {
  try {
    return parse_tokenizer_json(tokenizer_json, tokenizer_config_json, source);
  } catch (const json::exception& e) {  // a field of the wrong JSON type
    refuse(source, std::string("malformed tokenizer.json: ") + e.what());
  }
}

std::shared_ptr<const TokenizerModel> load_hf_tokenizer_json(const std::filesystem::path& dir) {
  const std::filesystem::path config = dir / "tokenizer_config.json";
  return hf_tokenizer_from_json(read_text_file(dir / "tokenizer.json", "tokenizer file"),
                                std::filesystem::exists(config) ? read_text_file(config, "tokenizer file") : std::string(),
                                (dir / "tokenizer.json").string());
}

}  // namespace model
