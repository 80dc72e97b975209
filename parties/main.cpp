// The mpcache executable: every subcommand in one binary, so the demo can start copies of itself.
#include "parties/bench_decode_command.hpp"
#include "parties/cli_options.hpp"
#include "parties/demo_command.hpp"
#include "parties/eval_command.hpp"
#include "parties/generate_command.hpp"
#include "parties/keygen_command.hpp"
#include "parties/party_command.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <malloc.h>

#include <iostream>

int main(int argc, char** argv) {
  // Large blocks (shares, masks, caches: megabytes each) always come from their own mappings and
  // go back to the system when freed. glibc would otherwise raise its mmap threshold after the
  // first such free and serve later blocks from the heap, which keeps freed memory resident and
  // inflates every party's peak.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  CLI::App app{"mpcache: private LLM inference under MPC with MPC-friendly KV-cache eviction"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("mpcache ") + MPCACHE_VERSION);
  app.option_defaults()->always_capture_default();  // every option's default appears in --help
  std::string log_level = "warn";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error or off (progress lines are not logs)")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  app.parse_complete_callback([&] {
    spdlog::set_default_logger(spdlog::stderr_color_mt("mpcache"));
    spdlog::set_level(spdlog::level::from_str(log_level));
  });

  parties::add_keygen_command(app);
  parties::add_party_command(app);
  parties::add_dealer_command(app);
  parties::add_demo_command(app);
  parties::add_bench_decode_command(app);
  parties::add_generate_command(app);
  parties::add_eval_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const parties::CommandExit& e) {
    return e.code;
  } catch (const std::exception& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
