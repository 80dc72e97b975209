#include "model/sentencepiece_tokenizer.hpp"

#include "model/pretokenizer.hpp"
#include "model/text_file.hpp"

#include <sentencepiece_processor.h>

#include <stdexcept>

namespace model {
namespace {

constexpr std::string_view kWordBoundary = "\xE2\x96\x81";  // U+2581, SentencePiece's space
constexpr std::string_view kUnknownSurface = " \xE2\x81\x87 ";  // " ⁇ ", SentencePiece's default

// "<0xNN>" -> the byte NN.
char byte_of_piece(const std::string& piece) { return static_cast<char>(std::stoi(piece.substr(3, 2), nullptr, 16)); }

std::string with_spaces(const std::string& piece) {
  std::string out;
  for (std::size_t i = 0; i < piece.size();) {
    if (piece.compare(i, kWordBoundary.size(), kWordBoundary) == 0) {
      out += ' ';
      i += kWordBoundary.size();
    } else {
      out += piece[i++];
    }
  }
  return out;
}

std::optional<int> id_if_enabled(int id) { return id >= 0 ? std::optional<int>(id) : std::nullopt; }

class SentencePieceTokenizer : public TokenizerModel {
 public:
  SentencePieceTokenizer(const std::string& bytes, std::string source) : source_(std::move(source)) {
    const auto status = processor_.LoadFromSerializedProto(bytes);
    if (!status.ok()) throw std::runtime_error(source_ + " is not a SentencePiece model: " + status.ToString());
  }

  std::vector<int> encode(std::string_view text) const override {
    decode_utf8(text);  // the same error as the other formats for malformed UTF-8
    std::vector<int> ids;
    const auto status = processor_.Encode(text, &ids);
    if (!status.ok()) throw std::invalid_argument(source_ + ": cannot encode the text: " + status.ToString());
    return ids;
  }

  std::string token_bytes(int id) const override {
    check_token_id(id, vocab_size());
    if (processor_.IsControl(id)) return "";
    if (processor_.IsUnknown(id)) return std::string(kUnknownSurface);
    const std::string piece = processor_.IdToPiece(id);
    if (processor_.IsByte(id)) return std::string(1, byte_of_piece(piece));
    return with_spaces(piece);
  }

  std::string token_symbol(int id) const override {
    check_token_id(id, vocab_size());
    return processor_.IdToPiece(id);
  }

  int vocab_size() const override { return processor_.GetPieceSize(); }

  std::optional<int> id_of(const std::string& symbol) const override {
    const int id = processor_.PieceToId(symbol);
    if (id < 0 || id >= vocab_size() || processor_.IdToPiece(id) != symbol) return std::nullopt;
    return id;
  }

  std::optional<int> bos_id() const override { return id_if_enabled(processor_.bos_id()); }
  std::optional<int> eos_id() const override { return id_if_enabled(processor_.eos_id()); }
  std::string describe() const override {
    return "SentencePiece (" + std::to_string(vocab_size()) + " pieces) from " + source_;
  }

 private:
  std::string source_;
  sentencepiece::SentencePieceProcessor processor_;
};

}  // namespace

std::shared_ptr<const TokenizerModel> sentencepiece_from_bytes(const std::string& bytes, const std::string& source) {
  return std::make_shared<SentencePieceTokenizer>(bytes, source);
}

std::shared_ptr<const TokenizerModel> load_sentencepiece(const std::filesystem::path& file) {
  return sentencepiece_from_bytes(read_text_file(file, "tokenizer file"), file.string());
}

}  // namespace model
