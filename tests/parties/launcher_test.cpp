// The local launcher's supervision: a failing party stops the others promptly, the first failure
// is named, a signal to the launcher reaches every child; and the demo's token rendering.
#include "parties/demo_command.hpp"
#include "parties/process_launcher.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <thread>

namespace {

using namespace std::chrono_literals;

parties::ChildSpec shell(const std::string& name, const std::string& script) {
  return {name, {"/bin/sh", "-c", script}, ""};
}

TEST(Launcher, AFailingChildStopsTheOthersAfterTheGrace) {
  parties::SupervisionOptions options;
  options.timeout = 120s;
  options.grace = 1s;
  const auto start = std::chrono::steady_clock::now();
  const auto outcomes = parties::run_children(
      {shell("P0", "exec sleep 60"), shell("P1", "sleep 0.2; exit 2"), shell("dealer", "exec sleep 60")}, options);
  EXPECT_LT(std::chrono::steady_clock::now() - start, 20s);
  ASSERT_EQ(outcomes.size(), 3u);
  EXPECT_TRUE(outcomes[1].failed_first);
  EXPECT_EQ(outcomes[1].exit_code, 2);
  for (int i : {0, 2}) {
    EXPECT_TRUE(outcomes[i].stopped) << outcomes[i].name;
    EXPECT_FALSE(outcomes[i].failed_first);
    EXPECT_FALSE(outcomes[i].timed_out);
    EXPECT_NE(kill(outcomes[i].pid, 0), 0) << "reaped, so the pid is gone";
  }
}

TEST(Launcher, ASignalToTheLauncherReachesEveryChild) {
  parties::SupervisionOptions options;
  options.timeout = 120s;
  std::thread sender([] {
    std::this_thread::sleep_for(500ms);
    kill(getpid(), SIGTERM);  // the launcher's handler is installed while the children run
  });
  try {
    parties::run_children({shell("P0", "exec sleep 60"), shell("P1", "exec sleep 60")}, options);
    ADD_FAILURE() << "run_children should report the interruption";
  } catch (const parties::LauncherInterrupted& e) {
    EXPECT_EQ(e.signal, SIGTERM);
  }
  sender.join();
}

TEST(Launcher, TicksWhileChildrenRun) {
  parties::SupervisionOptions options;
  int ticks = 0;
  options.on_tick = [&ticks] { ++ticks; };
  parties::run_children({shell("P0", "sleep 2.5")}, options);
  EXPECT_GE(ticks, 1);
}

TEST(DemoTable, ControlCharactersOfTokensAreEscaped) {
  EXPECT_EQ(parties::escape_token("\n"), "\\n");
  EXPECT_EQ(parties::escape_token(" the\tend\r\n"), " the\\tend\\r\\n");
  EXPECT_EQ(parties::escape_token("plain"), "plain");
}

}  // namespace
