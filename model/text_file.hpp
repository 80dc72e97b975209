// Reading a whole (small) text file, with an error that names it.
#pragma once

#include <filesystem>
#include <string>

namespace model {

// The file's bytes; throws std::runtime_error "cannot open <what> <path>" when it cannot be read.
std::string read_text_file(const std::filesystem::path& path, const std::string& what);

}  // namespace model
