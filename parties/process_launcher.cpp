#include "parties/process_launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace parties {

namespace {

using Clock = std::chrono::steady_clock;

volatile std::sig_atomic_t received_signal = 0;

void note_signal(int signal) { received_signal = signal; }

// Catches SIGINT and SIGTERM while the children run, so the launcher can pass them on; restores
// the previous handlers afterwards.
class SignalForwarding {
 public:
  SignalForwarding() {
    received_signal = 0;
    struct sigaction action {};
    action.sa_handler = note_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &old_int_);
    sigaction(SIGTERM, &action, &old_term_);
  }
  ~SignalForwarding() {
    sigaction(SIGINT, &old_int_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
  }
  SignalForwarding(const SignalForwarding&) = delete;
  SignalForwarding& operator=(const SignalForwarding&) = delete;

 private:
  struct sigaction old_int_ {}, old_term_ {};
};

pid_t spawn_child(const ChildSpec& spec) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!spec.log_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, spec.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  // The children start with default handlers for the signals the launcher forwards.
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  sigset_t defaults;
  sigemptyset(&defaults);
  sigaddset(&defaults, SIGINT);
  sigaddset(&defaults, SIGTERM);
  posix_spawnattr_setsigdefault(&attributes, &defaults);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGDEF);
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, &attributes, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  if (rc != 0) throw std::runtime_error("could not start " + spec.name + ": " + std::strerror(rc));
  return pid;
}

class Supervisor {
 public:
  Supervisor(const std::vector<ChildSpec>& children, const SupervisionOptions& options)
      : options_(options), outcomes_(children.size()) {
    for (std::size_t i = 0; i < children.size(); ++i) {
      outcomes_[i].name = children[i].name;
      outcomes_[i].pid = spawn_child(children[i]);
      ++running_;
    }
  }

  std::vector<ChildOutcome> run() {
    auto deadline = Clock::now() + options_.timeout;
    auto next_tick = Clock::now() + std::chrono::seconds(1);
    bool failure_seen = false;
    while (running_ > 0) {
      if (received_signal != 0) interrupt(received_signal);
      for (auto& child : outcomes_) {
        if (!reap(child, WNOHANG) || child.exit_code == 0 || failure_seen) continue;
        failure_seen = child.failed_first = true;
        deadline = std::min(deadline, Clock::now() + options_.grace);
      }
      if (running_ > 0 && Clock::now() >= deadline) {
        stop_all(SIGTERM, !failure_seen);
        break;
      }
      if (options_.on_tick && Clock::now() >= next_tick) {
        options_.on_tick();
        next_tick = Clock::now() + std::chrono::seconds(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return outcomes_;
  }

 private:
  // Records the child's end if it has ended (blocking when `flags` is 0); true if it ended now.
  bool reap(ChildOutcome& child, int flags) {
    if (child.pid <= 0 || child.exit_code >= 0 || child.signal != 0 || child.timed_out || child.stopped) return false;
    int status = 0;
    if (waitpid(child.pid, &status, flags) != child.pid) return false;
    child.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (WIFSIGNALED(status)) child.signal = WTERMSIG(status);
    --running_;
    return true;
  }

  // Sends `signal` to every running child, waits a little, then kills and reaps what remains.
  void stop_all(int signal, bool timed_out) {
    for (auto& child : outcomes_)
      if (running(child)) kill(child.pid, signal);
    const auto until = Clock::now() + std::chrono::seconds(2);
    while (running_ > 0 && Clock::now() < until) {
      for (auto& child : outcomes_) mark_stopped_if_reaped(child, WNOHANG, timed_out);
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    for (auto& child : outcomes_) {
      if (!running(child)) continue;
      kill(child.pid, SIGKILL);
      mark_stopped_if_reaped(child, 0, timed_out);
    }
  }

  void mark_stopped_if_reaped(ChildOutcome& child, int flags, bool timed_out) {
    if (!running(child) || !reap(child, flags) || child.signal == 0) return;  // 0: it ended on its own
    (timed_out ? child.timed_out : child.stopped) = true;
  }

  [[noreturn]] void interrupt(int signal) {
    stop_all(signal, false);
    throw LauncherInterrupted(signal);
  }

  static bool running(const ChildOutcome& c) {
    return c.pid > 0 && c.exit_code < 0 && c.signal == 0 && !c.timed_out && !c.stopped;
  }

  const SupervisionOptions& options_;
  std::vector<ChildOutcome> outcomes_;
  std::size_t running_ = 0;
};

}  // namespace

LauncherInterrupted::LauncherInterrupted(int s)
    : std::runtime_error(std::string("interrupted by signal ") + std::to_string(s) + " (" + strsignal(s) +
                         "); the party processes were stopped"),
      signal(s) {}

std::vector<ChildOutcome> run_children(const std::vector<ChildSpec>& children, const SupervisionOptions& options) {
  const SignalForwarding forwarding;  // before the first child starts, so no signal is missed
  Supervisor supervisor(children, options);
  return supervisor.run();
}

std::string self_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot locate the running executable: " + ec.message());
  return path.string();
}

}  // namespace parties
