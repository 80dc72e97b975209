// The model the commands use when --model is not given: the project's own trained model, found in
// the source tree this executable was built from, or under ./models when run elsewhere.
#pragma once

#include <string>

namespace parties {

// Name of the default model folder under models/.
inline constexpr const char* kDefaultModelName = "kjv-gpt2";

// The default model folder (it may not exist; the option's ExistingDirectory check says so).
std::string default_model_dir();

}  // namespace parties
