// The party mesh over mutually authenticated TLS 1.3 (Boost.Asio + OpenSSL).
// Every party listens on its own port; party i dials every j < i and accepts every j > i, learns who
// connected from the certificate common name "mpcache-party-<id>", and both sides confirm with a
// hello frame. All reads and writes are bounded by timeouts, so a vanished or stalled peer ends in
// a NetError naming it, never in a hang.
//
// Keep-alive: a background thread sends every peer a beat (frame.hpp) every beat_interval,
// carrying the age of this party's latest progress (progress_clock.hpp). Computing outside the
// mesh counts as progress, and so does a peer's beat with a fresh age, so a party may compute (or
// wait on a computing peer) for any length of time; the I/O timeout fires only for a dead or
// stopped peer, or a deadlock in which every party waits inside the mesh.
//
// Usage notes:
//  - A mesh is used by one thread at a time; all its I/O runs on its own io_context in the caller,
//    except the beats, which its own background thread writes.
//  - send() returns once the frame is in the kernel's socket buffer; a frame larger than the buffers
//    waits for the peer to read. Two parties that must send each other large frames use exchange().
//  - After any failure on a channel its byte stream is out of step, so every later use of that
//    channel throws at once; other channels stay usable.
//  - Accounting counts payload plus the 20-byte frame header; the set-up (handshake and hello
//    frames) and the keep-alive beats are not counted (no traffic, bytes, messages or rounds).
//  - With a shaped link profile (MeshOptions::link) every frame is delivered when the emulated link
//    would deliver it; the hello frames check that both ends use the same profile. Beats carry no
//    send stamp and are not delayed.
#pragma once

#include "net/link_profile.hpp"
#include "net/mesh.hpp"
#include "net/parties_config.hpp"

#include <chrono>
#include <cstddef>
#include <memory>

namespace net {

struct MeshOptions {
  // Total time for setting up the mesh (dialling with retries, accepting, handshakes, hellos).
  std::chrono::milliseconds connect_timeout{15000};
  // Longest time an operation may go without progress (a byte moved, or a peer's beat reporting
  // fresh progress) before the peer is declared stalled.
  std::chrono::milliseconds io_timeout{120000};
  // Time between keep-alive beats; zero: io_timeout / 4, within 10 ms .. 10 s.
  std::chrono::milliseconds beat_interval{0};
  // Largest accepted frame payload; a longer announced length is rejected before allocating.
  std::size_t max_frame_bytes = std::size_t(1) << 30;
  // The emulated network of every link of this party (link_profile.hpp); all parties must agree.
  LinkProfile link;
  // While this party waits on some peers, it reads the frames other peers send ahead into memory,
  // up to this many bytes per peer (0: never), so that a peer whose stream does not wait for this
  // party's (the 2PC dealer's keys) keeps sending instead of filling the socket and stalling.
  std::uint64_t read_ahead_bytes = std::uint64_t(256) << 20;
};

// beat_interval, or its default for io_timeout when zero.
std::chrono::milliseconds effective_beat_interval(const MeshOptions& opts);

// Connects party `self` to every other party of `cfg`. Throws ConfigError for a bad config or
// missing files and NetError for every network or authentication failure.
std::unique_ptr<Mesh> connect_tls_mesh(const PartiesConfig& cfg, int self, const MeshOptions& opts = {});

}  // namespace net
