// Starts party processes locally and supervises them: a failing party stops the run instead of
// leaving the others waiting on it.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace parties {

struct ChildSpec {
  std::string name;               // for messages, e.g. "P0"
  std::vector<std::string> argv;  // argv[0] is the program
  std::string log_file;           // stdout and stderr of the child go here; empty: the launcher's terminal
};

struct ChildOutcome {
  std::string name;
  int exit_code = -1;  // -1: killed or did not finish
  int signal = 0;      // the signal that ended it (SIGKILL from the kernel: out of memory), or 0
  bool timed_out = false;
};

// Runs all children concurrently. When one exits non-zero, the others get `grace` to finish on
// their own (they should notice the lost peer) and are then killed. Everything is killed at `timeout`.
std::vector<ChildOutcome> run_children(const std::vector<ChildSpec>& children, std::chrono::seconds timeout,
                                       std::chrono::seconds grace = std::chrono::seconds(10));

// Path of the running executable, so the launcher can start copies of itself.
std::string self_executable();

}  // namespace parties
