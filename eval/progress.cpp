#include "eval/progress.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace eval {

std::string format_duration(double seconds) {
  const long total = std::lround(std::max(0.0, seconds));
  char buffer[32];
  if (total < 60) {
    std::snprintf(buffer, sizeof buffer, "%lds", total);
  } else if (total < 3600) {
    std::snprintf(buffer, sizeof buffer, "%ldm%02lds", total / 60, total % 60);
  } else {
    std::snprintf(buffer, sizeof buffer, "%ldh%02ldm", total / 3600, (total % 3600) / 60);
  }
  return buffer;
}

Progress::Progress(std::ostream* out, double total_cost, double min_interval_s)
    : out_(out),
      total_cost_(total_cost),
      min_interval_s_(min_interval_s),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_) {}

double Progress::elapsed_seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void Progress::job_done(const std::string& label, double cost) {
  std::lock_guard lock(mutex_);
  done_cost_ += cost;
  if (!out_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool finished = done_cost_ >= total_cost_ * (1.0 - 1e-12);
  if (!finished && std::chrono::duration<double>(now - last_print_).count() < min_interval_s_) return;
  last_print_ = now;
  const double elapsed = elapsed_seconds();
  const double fraction = total_cost_ > 0 ? std::min(1.0, done_cost_ / total_cost_) : 1.0;
  const double eta = fraction > 0 ? elapsed * (1.0 - fraction) / fraction : 0.0;
  char percent[16];
  std::snprintf(percent, sizeof percent, "%5.1f%%", 100.0 * fraction);
  *out_ << "[eval " << percent << "] " << label << " | elapsed " << format_duration(elapsed) << " | ETA "
        << format_duration(eta) << std::endl;
}

}  // namespace eval
