#pragma once
// Choosing loopback ports for parties launched on one machine (demo, bench-decode, tests).
//
// A port is chosen below the kernel's ephemeral range (net.ipv4.ip_local_port_range): the kernel
// gives every outgoing connection a local port from that range, so a port outside it cannot be
// taken by some other process's connect() between the moment it is chosen and the party's bind.
// Inside the range that happens, and under a parallel test suite it does.

#include <cstdint>
#include <functional>

namespace net {

struct PortRange {
  int first = 0;  // inclusive
  int last = 0;   // inclusive
};

// The ports below the ephemeral range, from 10000 on (or above it when the range starts too low).
PortRange listening_port_range();

// Whether a listening socket could be bound on 127.0.0.1:port right now (as the mesh binds it).
bool can_listen_on_loopback(std::uint16_t port);

// The first of `count` consecutive ports of listening_port_range(), tried at random, that can all
// be listened on now and that `reserve(first, count)` accepts (e.g. by locking them against other
// processes; no reserve: accept). Throws std::runtime_error when no block is found.
std::uint16_t pick_listening_ports(int count, const std::function<bool(std::uint16_t, int)>& reserve = {});

}  // namespace net
