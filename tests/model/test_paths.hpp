// Locations of the committed test inputs.
#pragma once

#include <filesystem>

namespace model_test {

inline std::filesystem::path source_dir() { return MPCACHE_SOURCE_DIR; }
inline std::filesystem::path data_dir() { return source_dir() / "tests/model/data"; }
inline std::filesystem::path kjv_model_dir() { return source_dir() / "models/kjv-gpt2"; }
inline std::filesystem::path gpt2_tokenizer_dir() { return source_dir() / "models/gpt2-tokenizer"; }

// A fresh empty directory under the system temp dir, unique per test.
std::filesystem::path temp_dir(const std::string& name);

}  // namespace model_test
