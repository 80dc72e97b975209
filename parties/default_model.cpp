#include "parties/default_model.hpp"

#include <filesystem>

namespace parties {

std::string default_model_dir() {
  namespace fs = std::filesystem;
  const fs::path built_from = fs::path(MPCACHE_SOURCE_DIR) / "models" / kDefaultModelName;
  if (fs::is_directory(built_from)) return built_from.string();
  return (fs::path("models") / kDefaultModelName).string();
}

}  // namespace parties
