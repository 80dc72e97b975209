#include "parties/keygen_command.hpp"

#include "parties/cli_options.hpp"
#include "net/keygen.hpp"

#include <iostream>
#include <memory>

namespace parties {

namespace {
struct KeygenOptions {
  int parties = 3;
  std::string out_dir;
  std::string host = "127.0.0.1";
  int base_port = 47000;
  int valid_days = 365;
};
}  // namespace

void add_keygen_command(CLI::App& app) {
  auto o = std::make_shared<KeygenOptions>();
  auto* cmd = app.add_subcommand("keygen", "make a CA, party keys/certificates and a parties file");
  cmd->add_option("--parties", o->parties, "number of party processes (3 for both 2pc+dealer and 3pc)")
      ->check(CLI::Range(2, 16));
  cmd->add_option("--out", o->out_dir, "output folder")->required();
  cmd->add_option("--host", o->host, "host written into the parties file for every party (edit it per machine)");
  cmd->add_option("--base-port", o->base_port, "party i listens on base-port + i")->check(CLI::Range(1024, 65000));
  cmd->add_option("--days", o->valid_days, "certificate validity in days")->check(CLI::Range(1, 3650));
  cmd->callback([o] {
    net::generate_deployment(o->out_dir, o->parties, o->host, static_cast<std::uint16_t>(o->base_port), o->valid_days);
    std::cout << "wrote CA, " << o->parties << " party certificates and " << o->out_dir << "/parties.json\n";
    throw CommandExit(0);
  });
}

}  // namespace parties
