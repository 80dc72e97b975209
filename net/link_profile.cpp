#include "net/link_profile.hpp"

#include <cctype>
#include <cmath>
#include <cstdio>
#include <stdexcept>
#include <utility>

namespace net {

namespace {

constexpr std::uint64_t kTlsRecordPlaintext = 16384;
constexpr std::uint64_t kTlsRecordOverhead = 22;

// Splits "400mbit" into 400 and "mbit"; throws when there is no number.
std::pair<double, std::string> number_and_unit(const std::string& text, const std::string& what) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    throw std::invalid_argument(what + " '" + text + "' does not start with a number");
  }
  std::string unit = text.substr(used);
  for (char& c : unit) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!std::isfinite(value) || value <= 0) throw std::invalid_argument(what + " '" + text + "' must be positive");
  return {value, unit};
}

double parse_rate(const std::string& text) {
  const auto [value, unit] = number_and_unit(text, "link rate");
  if (unit == "bit") return value;
  if (unit == "kbit") return value * 1e3;
  if (unit == "mbit") return value * 1e6;
  if (unit == "gbit") return value * 1e9;
  throw std::invalid_argument("link rate '" + text + "': unit must be bit, kbit, mbit or gbit (e.g. 400mbit)");
}

double parse_rtt(const std::string& text) {
  const auto [value, unit] = number_and_unit(text, "round-trip time");
  if (unit == "us") return value * 1e-6;
  if (unit == "ms") return value * 1e-3;
  if (unit == "s") return value;
  throw std::invalid_argument("round-trip time '" + text + "': unit must be us, ms or s (e.g. 40ms)");
}

std::string with_unit(double value, double scale, const char* unit) {
  char text[48];
  std::snprintf(text, sizeof text, "%g %s", value / scale, unit);
  return text;
}

std::string rate_text(double bits_per_second) {
  if (bits_per_second >= 1e9) return with_unit(bits_per_second, 1e9, "Gbit/s");
  if (bits_per_second >= 1e6) return with_unit(bits_per_second, 1e6, "Mbit/s");
  if (bits_per_second >= 1e3) return with_unit(bits_per_second, 1e3, "kbit/s");
  return with_unit(bits_per_second, 1, "bit/s");
}

// Milliseconds from 0.1 ms up, as link round trips are usually quoted.
std::string time_text(double seconds) {
  if (seconds >= 1) return with_unit(seconds, 1, "s");
  if (seconds >= 1e-4) return with_unit(seconds, 1e-3, "ms");
  return with_unit(seconds, 1e-6, "us");
}

}  // namespace

double LinkProfile::transfer_seconds(double wire_bytes) const {
  return rate_bits_per_second > 0 ? wire_bytes * 8 / rate_bits_per_second : 0.0;
}

std::string LinkProfile::describe() const {
  if (!shaped()) return name + " (no shaping)";
  const std::string rate = rate_bits_per_second > 0 ? rate_text(rate_bits_per_second) : std::string("unlimited rate");
  return name + " (" + rate + ", " + time_text(rtt_seconds) + " RTT)";
}

std::string LinkProfile::canonical() const {
  char text[96];
  std::snprintf(text, sizeof text, "%.17g bit/s %.17g s", rate_bits_per_second, rtt_seconds);
  return text;
}

LinkProfile parse_link_profile(const std::string& text) {
  if (text == "loopback") return {"loopback", 0, 0};
  if (text == "lan") return {"lan", 3e9, 0.3e-3};
  if (text == "wan") return {"wan", 400e6, 40e-3};
  const auto comma = text.find(',');
  if (comma == std::string::npos)
    throw std::invalid_argument("network '" + text + "': expected loopback, lan, wan or RATE,RTT (e.g. 1gbit,2ms)");
  // Named RATE/RTT, so that the name can stand in a CSV cell.
  const std::string rate = text.substr(0, comma), rtt = text.substr(comma + 1);
  return {rate + "/" + rtt, parse_rate(rate), parse_rtt(rtt)};
}

std::uint64_t wire_bytes_of_frame(std::uint64_t frame_bytes) {
  const std::uint64_t records = frame_bytes == 0 ? 1 : (frame_bytes + kTlsRecordPlaintext - 1) / kTlsRecordPlaintext;
  return frame_bytes + records * kTlsRecordOverhead;
}

LinkDirectionModel::Clock::time_point LinkDirectionModel::delivery(Clock::time_point sent, std::uint64_t frame_bytes) {
  const auto seconds = [](double s) {
    return std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(s));
  };
  const Clock::time_point departure = std::max(sent, busy_until_);
  busy_until_ = departure + seconds(profile_.transfer_seconds(double(wire_bytes_of_frame(frame_bytes))));
  return busy_until_ + seconds(profile_.one_way_seconds());
}

}  // namespace net
