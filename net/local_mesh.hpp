// An in-process party mesh: every party is a thread, every directed channel a queue. With a shaped
// link profile a frame is handed to its receiver no earlier than the emulated link would deliver
// it (link_profile.hpp; the 20-byte frame header of the TLS mesh is counted on the wire).
// It implements net::Mesh exactly (framing aside), including the accounting, so protocol logic can be
// tested quickly and deterministically; a receive that waits longer than the timeout throws NetError
// instead of hanging the test.
#pragma once

#include "net/link_profile.hpp"
#include "net/mesh.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

namespace net {

// The queues shared by all parties of one local mesh.
class LocalHub {
 public:
  explicit LocalHub(int parties, const LinkProfile& link = {});

  int size() const { return parties_; }
  void push(int from, int to, Bytes payload);
  // Waits for the next frame on the channel from -> to; throws NetError after `timeout`.
  Bytes pop(int from, int to, std::chrono::milliseconds timeout);

 private:
  struct Frame {
    Bytes payload;
    LinkDirectionModel::Clock::time_point delivery;
  };
  struct Channel {
    explicit Channel(const LinkProfile& link) : link(link) {}
    std::mutex mutex;
    std::condition_variable ready;
    std::deque<Frame> frames;
    LinkDirectionModel link;
  };
  Channel& channel(int from, int to);

  int parties_;
  bool shaped_;
  std::vector<std::unique_ptr<Channel>> channels_;  // index from * parties + to
};

class LocalMesh final : public Mesh {
 public:
  LocalMesh(std::shared_ptr<LocalHub> hub, int self, std::chrono::milliseconds timeout);

  int self() const override { return self_; }
  int size() const override { return hub_->size(); }
  void send(int peer, std::span<const std::uint8_t> payload) override;
  Bytes recv(int peer) override;
  std::vector<Bytes> exchange(std::span<const Outgoing> out, std::span<const int> from) override;

 private:
  void check_peer(int peer) const;

  std::shared_ptr<LocalHub> hub_;
  int self_;
  std::chrono::milliseconds timeout_;
};

// One mesh per party, all connected to the same hub.
std::vector<std::unique_ptr<LocalMesh>> make_local_meshes(int parties,
                                                         std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                                         const LinkProfile& link = {});

// Runs body(mesh) for every party on its own thread and rethrows the first failure (in party order)
// once all threads have finished. A party that fails makes its peers time out rather than hang.
void run_local_parties(int parties, const std::function<void(Mesh&)>& body,
                       std::chrono::milliseconds timeout = std::chrono::seconds(30), const LinkProfile& link = {});

}  // namespace net
