// Runs the three party processes of one protocol on this machine over TLS, with a fresh CA and
// certificates, and collects their JSON results: what `mpcache demo` and `mpcache bench-decode`
// do for each protocol.
#pragma once

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace parties {

struct LocalPartiesRun {
  std::string protocol;                   // "2pc" or "3pc"
  std::filesystem::path dir;              // certificates, logs and results go here
  int base_port = 0;                      // the launch's first port (3PC adds 10, so both protocols
                                          // of one launch can share it); 0: a random one
  double timeout_s = 300;
  std::vector<std::string> job_args;      // flags every party gets (job, model, ...)
  std::vector<std::string> user_args;     // flags only P1 (the user) gets, e.g. the prompt
  int echo_party = -1;                    // this party's output goes to the terminal (progress)
  std::function<void()> on_tick;          // called about once a second while the parties run
};

// The result file of party `name` ("P0", "P1", "dealer", "P2") in the run's folder.
std::filesystem::path result_file(const LocalPartiesRun& run, const std::string& name);

// The names of the three parties of a protocol, in id order.
std::vector<std::string> party_names(const std::string& protocol);

// The parties' result files in id order (P0, P1, dealer or P2). Throws std::runtime_error, after
// printing the logs of the parties that failed, when any party fails or times out.
std::vector<nlohmann::json> run_local_parties(const LocalPartiesRun& run);

// Median of a non-empty list.
double median(std::vector<double> values);

}  // namespace parties
