// SentencePiece tokenizer.model files (LLaMA-1/2, Mistral, this project's kjv-llama), encoded and
// decoded by Debian's libsentencepiece, so ids are exactly those of the reference implementation.
//
// Decoding differs from SentencePiece's DecodeIds in one way: the space that the model's dummy
// prefix puts before the first word is kept ("▁In" -> " In"), so that decoding a sequence token by
// token (as generation prints it) gives the same text as decoding it at once. Byte-fallback pieces
// (<0x0A>) decode to their byte, control pieces (<s>, </s>) to nothing, <unk> to " ⁇ ".
#pragma once

#include "model/tokenizer_model.hpp"

#include <filesystem>
#include <memory>

namespace model {

// Throws std::runtime_error naming the file when it cannot be read or is not a SentencePiece model.
std::shared_ptr<const TokenizerModel> load_sentencepiece(const std::filesystem::path& file);
// From the file's bytes (a serialised ModelProto); `source` names it in messages.
std::shared_ptr<const TokenizerModel> sentencepiece_from_bytes(const std::string& bytes, const std::string& source);

}  // namespace model
