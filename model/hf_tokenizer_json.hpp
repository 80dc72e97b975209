// Hugging Face tokenizer.json files of byte-level BPE tokenizers (LLaMA-3, Qwen2, GPT-2 and their
// relatives), read with nlohmann-json into a ByteLevelBpe: model.vocab, model.merges (either
// "left right" strings or [left, right] pairs), model.ignore_merges, the added tokens, and the
// pre-tokenizer (ByteLevel with its GPT-2 regex, or a Split regex that pretokenizer.hpp knows,
// followed by ByteLevel). The beginning/end-of-sequence tokens come from tokenizer_config.json
// when the folder has one.
//
// Refused with an error that says why: other model types (WordPiece, Unigram), SentencePiece-style
// BPE (byte_fallback, Metaspace; use the folder's tokenizer.model), unknown regexes, and
// normalizers other than none or NFC (NFC is applied to ASCII text only, where it changes nothing;
// non-ASCII text is refused with such a tokenizer rather than tokenized wrongly).
#pragma once

#include "model/tokenizer_model.hpp"

#include <filesystem>
#include <memory>
#include <string_view>

namespace model {

// dir/tokenizer.json, with dir/tokenizer_config.json when present.
std::shared_ptr<const TokenizerModel> load_hf_tokenizer_json(const std::filesystem::path& dir);
// From the files' contents (tokenizer_config_json may be empty); `source` names them in messages.
std::shared_ptr<const TokenizerModel> hf_tokenizer_from_json(std::string_view tokenizer_json,
                                                             std::string_view tokenizer_config_json,
                                                             const std::string& source);

}  // namespace model
