// Fuzzes the parties-file parser (PartiesConfig::load): the input is written to a file in a
// private temporary folder that also holds a CA certificate file "ca.crt", so that valid
// configurations are reachable. Invalid files must be rejected with ConfigError; an accepted
// file must describe parties 0..N-1 and survive save -> load unchanged.
#include "fuzz_check.hpp"
#include "net/parties_config.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;

// The folder lives as long as the process and is removed at exit.
class ScratchFolder {
 public:
  ScratchFolder() {
    std::string pattern = (fs::temp_directory_path() / "mpcache-fuzz-parties-XXXXXX").string();
    if (!mkdtemp(pattern.data())) throw std::runtime_error("fuzz set-up: cannot create a temporary folder");
    path_ = pattern;
    std::ofstream(path_ / "ca.crt") << "placeholder CA certificate\n";
  }
  ~ScratchFolder() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

const fs::path& scratch() {
  static const ScratchFolder folder;
  return folder.path();
}

void write_file(const fs::path& path, const std::uint8_t* data, std::size_t size) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  if (!out.flush()) throw std::runtime_error("fuzz set-up: cannot write " + path.string());
}

bool same_path(const std::string& a, const std::string& b) {
  return fs::path(a).lexically_normal() == fs::path(b).lexically_normal();
}

bool same_party(const net::PartyEntry& a, const net::PartyEntry& b) {
  return a.id == b.id && a.host == b.host && a.port == b.port && same_path(a.cert, b.cert) && same_path(a.key, b.key);
}

void check_accepted(const net::PartiesConfig& config) {
  fuzz::require_property(config.size() >= 2, "an accepted file has at least two parties");
  for (int id = 0; id < config.size(); ++id) {
    fuzz::require_property(config.party(id).id == id, "party(id) returns that party; ids are 0..N-1");
    fuzz::require_property(config.party(id).port >= 1, "ports are in 1..65535");
  }
  const std::string saved = (scratch() / "saved.json").string();
  config.save(saved);
  const net::PartiesConfig again = net::PartiesConfig::load(saved);
  fuzz::require_property(same_path(again.ca, config.ca), "save -> load keeps the CA path");
  fuzz::require_property(again.size() == config.size(), "save -> load keeps every party");
  for (int id = 0; id < config.size(); ++id)
    fuzz::require_property(same_party(again.party(id), config.party(id)), "save -> load keeps each party's fields");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const fs::path input = scratch() / "parties.json";
  write_file(input, data, size);
  try {
    check_accepted(net::PartiesConfig::load(input.string()));
  } catch (const net::ConfigError&) {
    // An invalid parties file, rejected with a message naming it.
  }
  return 0;
}
