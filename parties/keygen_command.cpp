#include "parties/keygen_command.hpp"

#include "parties/cli_options.hpp"
#include "net/keygen.hpp"

#include <filesystem>
#include <iostream>
#include <memory>
#include <regex>
#include <stdexcept>

namespace parties {

namespace {

namespace fs = std::filesystem;

struct KeygenOptions {
  int parties = 3;
  std::string out_dir;
  std::string host = "127.0.0.1";
  int base_port = 47000;
  int valid_days = 365;
  bool force = false;
};

// The files of a deployment `mpcache keygen` writes (the CA, party certificates and keys, the
// parties file) found in `dir`.
std::vector<fs::path> deployment_files(const fs::path& dir) {
  static const std::regex names(R"(ca\.(crt|key)|party[0-9]+\.(crt|key)|parties\.json)");
  std::vector<fs::path> found;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec))
    if (std::regex_match(entry.path().filename().string(), names)) found.push_back(entry.path());
  return found;
}

// An existing deployment is replaced only with --force (its CA would change under every party),
// and then entirely, so that no certificate of a larger earlier deployment stays behind.
void clear_previous_deployment(const KeygenOptions& o) {
  const auto old = deployment_files(o.out_dir);
  if (old.empty()) return;
  if (!o.force)
    throw std::invalid_argument(o.out_dir + " already holds a deployment (" + old.front().filename().string() +
                                ", ...); pass --force to replace its CA and every certificate");
  for (const auto& path : old) fs::remove(path);
  std::cerr << "replaced the deployment in " << o.out_dir << " (" << old.size() << " files removed)\n";
}

}  // namespace

void add_keygen_command(CLI::App& app) {
  auto o = std::make_shared<KeygenOptions>();
  auto* cmd = app.add_subcommand("keygen", "make a CA, party keys/certificates and a parties file");
  cmd->add_option("--parties", o->parties, "number of party processes (3 for both 2pc+dealer and 3pc)")
      ->check(Range(2, 16));
  cmd->add_option("--out", o->out_dir, "output folder")->required();
  cmd->add_option("--host", o->host, "host written into the parties file for every party (edit it per machine)");
  cmd->add_option("--base-port", o->base_port, "party i listens on base-port + i")->check(Range(1024, 65000));
  cmd->add_option("--days", o->valid_days, "certificate validity in days")->check(Range(1, 3650));
  cmd->add_flag("--force", o->force, "replace a deployment already in --out (a new CA: every party needs the new files)");
  cmd->callback([o] {
    clear_previous_deployment(*o);
    // An absolute folder: the parties file names its certificates by path, and a relative one
    // would be resolved against the parties file's own folder.
    net::generate_deployment(fs::absolute(o->out_dir).string(), o->parties, o->host, static_cast<std::uint16_t>(o->base_port), o->valid_days);
    std::cout << "wrote CA, " << o->parties << " party certificates and " << o->out_dir << "/parties.json\n";
    throw CommandExit(0);
  });
}

}  // namespace parties
