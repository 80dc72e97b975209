// A testing aid: makes this party crash or freeze at a named point of the private inference job,
// so that tests can check deterministically how the other parties react to a lost or silent peer.
// Nothing happens unless --inject-fault was given.
#pragma once

#include <CLI/CLI.hpp>

#include <optional>
#include <string>

namespace parties {

// Where the fault strikes. setup: after the mesh and the session handshake, before the prompt
// length and the weights are shared; prefill: at the start of the prefill; decode: at the start of
// the second decode step (the third generated token), so one full decode step has completed.
enum class FaultPoint { setup, prefill, decode };

// exit: the process ends at once without closing its TLS connections (as a crash or kill -9 would);
// stall: the process stops itself (SIGSTOP, as a frozen machine would), keeping its sockets open.
// Every thread stops, the mesh's keep-alive beats too: a party that merely sleeps would still
// beat and count as computing, not as stalled.
enum class FaultKind { exit, stall };

struct FaultRequest {
  FaultPoint point;
  FaultKind kind;
};

// The decode step (1 = the first decode step after the prefill) at which a decode fault strikes.
inline constexpr int kFaultyDecodeStep = 2;

// Exit code of a party ended by an injected `exit` fault.
inline constexpr int kInjectedFaultExitCode = 3;

// Parses "PHASE:KIND", e.g. "prefill:exit"; throws std::invalid_argument naming the bad part.
FaultRequest parse_fault_request(const std::string& text);

// Adds --inject-fault PHASE:KIND to a party subcommand, in an option group named "Testing".
void add_fault_injection_flag(CLI::App& cmd);

// Called by the job at each point; strikes if this point was requested. `decode_step` counts the
// decode steps from 1 and matters only for FaultPoint::decode.
void reach_fault_point(FaultPoint point, int decode_step = 0);

}  // namespace parties
