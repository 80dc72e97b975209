// Starts party processes locally and supervises them: a failing party stops the run instead of
// leaving the others waiting on it, and a SIGINT or SIGTERM to the launcher reaches them too.
#pragma once

#include <chrono>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include <sys/types.h>

namespace parties {

struct ChildSpec {
  std::string name;               // for messages, e.g. "P0"
  std::vector<std::string> argv;  // argv[0] is the program
  std::string log_file;           // stdout and stderr of the child go here; empty: the launcher's terminal
};

struct ChildOutcome {
  std::string name;
  pid_t pid = 0;
  int exit_code = -1;  // -1: killed or did not finish
  int signal = 0;      // the signal that ended it, or 0
  bool timed_out = false;  // stopped by the launcher at the run's timeout
  bool stopped = false;    // stopped by the launcher after another party failed, or on the launcher's own signal
  bool failed_first = false;  // the first party to end with a failure
};

// Thrown by run_children after a SIGINT or SIGTERM to the launcher: every child was sent the same
// signal, then killed if still running after a short grace, and reaped.
class LauncherInterrupted : public std::runtime_error {
 public:
  explicit LauncherInterrupted(int signal);
  int signal;
};

struct SupervisionOptions {
  std::chrono::seconds timeout{300};  // everything is killed then
  // After one child fails, the others get this long to finish on their own (they should notice the
  // lost peer and say so), then SIGTERM, then SIGKILL.
  std::chrono::seconds grace{5};
  std::function<void()> on_tick;  // called about once a second while children run (e.g. to collect results)
};

// Runs all children concurrently under `options`.
std::vector<ChildOutcome> run_children(const std::vector<ChildSpec>& children, const SupervisionOptions& options);

// Path of the running executable, so the launcher can start copies of itself.
std::string self_executable();

}  // namespace parties
