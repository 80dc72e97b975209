// The committed GPT-2 tokenizer (models/kjv-gpt2) for the tokenizer fuzz targets.
#pragma once

#include "model/tokenizer.hpp"

namespace fuzz {

// The tokenizer caches the ids of every word it has encoded, which grows without bound over
// millions of fuzz inputs; it is therefore rebuilt (from file contents read once) every few
// thousand calls, so memory stays flat and each input still runs against a warm or cold cache.
const model::Tokenizer& committed_tokenizer();

}  // namespace fuzz
