#include "parties/process_launcher.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace parties {

namespace {

pid_t spawn_child(const ChildSpec& spec) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  if (!spec.log_file.empty()) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, spec.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  }
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  std::vector<char*> argv;
  for (const auto& a : spec.argv) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = 0;
  const int rc = posix_spawn(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) throw std::runtime_error("could not start " + spec.name + ": " + std::strerror(rc));
  return pid;
}

}  // namespace

std::vector<ChildOutcome> run_children(const std::vector<ChildSpec>& children, std::chrono::seconds timeout,
                                       std::chrono::seconds grace) {
  using Clock = std::chrono::steady_clock;
  std::vector<ChildOutcome> outcomes(children.size());
  std::vector<pid_t> pids;
  for (std::size_t i = 0; i < children.size(); ++i) {
    outcomes[i].name = children[i].name;
    pids.push_back(spawn_child(children[i]));
  }
  auto deadline = Clock::now() + timeout;
  std::size_t running = children.size();
  bool failure_seen = false;
  while (running > 0) {
    for (std::size_t i = 0; i < pids.size(); ++i) {
      if (pids[i] <= 0) continue;
      int status = 0;
      if (waitpid(pids[i], &status, WNOHANG) != pids[i]) continue;
      outcomes[i].exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      if (WIFSIGNALED(status)) outcomes[i].signal = WTERMSIG(status);
      pids[i] = 0;
      --running;
      if (outcomes[i].exit_code != 0 && !failure_seen) {
        failure_seen = true;
        deadline = std::min(deadline, Clock::now() + grace);
      }
    }
    if (running > 0 && Clock::now() >= deadline) {
      for (std::size_t i = 0; i < pids.size(); ++i) {
        if (pids[i] <= 0) continue;
        kill(pids[i], SIGKILL);
        waitpid(pids[i], nullptr, 0);
        outcomes[i].timed_out = true;
        pids[i] = 0;
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return outcomes;
}

std::string self_executable() {
  std::error_code ec;
  auto path = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("cannot locate the running executable: " + ec.message());
  return path.string();
}

}  // namespace parties
