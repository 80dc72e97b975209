#include "parties/fault_injection.hpp"


#include <chrono>
#include <csignal>
#include <cstdlib>
#include <iostream>
#include <stdexcept>
#include <thread>

namespace parties {

namespace {

// One fault per process at most; set while parsing the command line, before any job starts.
std::optional<FaultRequest>& requested_fault() {
  static std::optional<FaultRequest> request;
  return request;
}

FaultPoint parse_point(const std::string& name) {
  if (name == "setup") return FaultPoint::setup;
  if (name == "prefill") return FaultPoint::prefill;
  if (name == "decode") return FaultPoint::decode;
  throw std::invalid_argument("unknown fault phase '" + name + "' (expected setup, prefill or decode)");
}

FaultKind parse_kind(const std::string& name) {
  if (name == "exit") return FaultKind::exit;
  if (name == "stall") return FaultKind::stall;
  throw std::invalid_argument("unknown fault kind '" + name + "' (expected exit or stall)");
}

const char* point_name(FaultPoint point) {
  switch (point) {
    case FaultPoint::setup: return "setup";
    case FaultPoint::prefill: return "prefill";
    case FaultPoint::decode: return "decode";
  }
  return "?";
}

[[noreturn]] void strike(const FaultRequest& fault) {
  // Written straight to stderr (not through a logger that could be switched off) so that a test
  // can tell an injected fault from a real failure.
  std::cerr << "injected fault: " << (fault.kind == FaultKind::exit ? "exiting" : "stalling") << " at "
            << point_name(fault.point) << std::endl;
  if (fault.kind == FaultKind::exit) std::_Exit(kInjectedFaultExitCode);  // no destructors: TLS is not closed
  std::raise(SIGSTOP);  // sockets stay open, nothing is read or sent
  for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // if continued: still nothing
}

}  // namespace

FaultRequest parse_fault_request(const std::string& text) {
  const auto colon = text.find(':');
  if (colon == std::string::npos) throw std::invalid_argument("expected PHASE:KIND, got '" + text + "'");
  return {parse_point(text.substr(0, colon)), parse_kind(text.substr(colon + 1))};
}

void add_fault_injection_flag(CLI::App& cmd) {
  cmd.add_option_function<std::string>(
         "--inject-fault",
         [](const std::string& text) {
           try {
             requested_fault() = parse_fault_request(text);
           } catch (const std::invalid_argument& e) {
             throw CLI::ValidationError("--inject-fault", e.what());
           }
         },
         "testing aid: at PHASE (setup, prefill or decode = the 2nd decode step) of the generate job, KIND "
         "exit (die without closing connections) or stall (stop the process with SIGSTOP, connections open)")
      ->type_name("PHASE:KIND")
      ->group("Testing");
}

void reach_fault_point(FaultPoint point, int decode_step) {
  const std::optional<FaultRequest>& fault = requested_fault();
  if (!fault || fault->point != point) return;
  if (point == FaultPoint::decode && decode_step != kFaultyDecodeStep) return;
  strike(*fault);
}

}  // namespace parties
