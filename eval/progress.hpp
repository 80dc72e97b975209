// Progress of a long evaluation on stderr: what just finished, the fraction done, the elapsed time
// and an ETA. Jobs differ a lot in cost (prompt length, decode steps), so progress is weighted by
// each job's estimated cost rather than by the job count. Safe to call from several threads.
#pragma once

#include <chrono>
#include <mutex>
#include <ostream>
#include <string>

namespace eval {

std::string format_duration(double seconds);  // e.g. "42s", "3m05s", "1h02m"

class Progress {
 public:
  // `out` may be null (no output). `min_interval_s` throttles the lines printed.
  Progress(std::ostream* out, double total_cost, double min_interval_s = 2.0);

  // Records a finished job; prints "label" with the progress when the interval has passed or the
  // run is complete.
  void job_done(const std::string& label, double cost);
  double elapsed_seconds() const;

 private:
  std::ostream* out_;
  double total_cost_;
  double min_interval_s_;
  double done_cost_ = 0.0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_print_;
  std::mutex mutex_;
};

}  // namespace eval
