#include "net/local_mesh.hpp"

#include "net/frame.hpp"

#include <exception>
#include <string>
#include <thread>

namespace net {

LocalHub::LocalHub(int parties, const LinkProfile& link) : parties_(parties), shaped_(link.shaped()) {
  if (parties < 1) throw std::invalid_argument("a local mesh needs at least one party");
  for (int i = 0; i < parties * parties; ++i) channels_.push_back(std::make_unique<Channel>(link));
}

LocalHub::Channel& LocalHub::channel(int from, int to) { return *channels_[from * parties_ + to]; }

void LocalHub::push(int from, int to, Bytes payload) {
  Channel& c = channel(from, to);
  {
    std::lock_guard lock(c.mutex);
    const auto now = LinkDirectionModel::Clock::now();
    const auto delivery = shaped_ ? c.link.delivery(now, payload.size() + kFrameHeaderBytes) : now;
    c.frames.push_back({std::move(payload), delivery});
  }
  c.ready.notify_one();
}

Bytes LocalHub::pop(int from, int to, std::chrono::milliseconds timeout) {
  Channel& c = channel(from, to);
  std::unique_lock lock(c.mutex);
  if (!c.ready.wait_for(lock, timeout, [&] { return !c.frames.empty(); }))
    throw NetError("local mesh: party " + std::to_string(to) + " timed out after " + std::to_string(timeout.count()) +
                   " ms waiting for party " + std::to_string(from));
  // Frames of one channel are delivered in order, so only the first one can be due.
  const auto delivery = c.frames.front().delivery;
  while (LinkDirectionModel::Clock::now() < delivery) c.ready.wait_until(lock, delivery);
  Bytes frame = std::move(c.frames.front().payload);
  c.frames.pop_front();
  return frame;
}

LocalMesh::LocalMesh(std::shared_ptr<LocalHub> hub, int self, std::chrono::milliseconds timeout)
    : hub_(std::move(hub)), self_(self), timeout_(timeout) {
  if (self < 0 || self >= hub_->size()) throw std::invalid_argument("local mesh: party id out of range");
}

void LocalMesh::check_peer(int peer) const {
  if (peer < 0 || peer >= size() || peer == self_)
    throw NetError("local mesh: party " + std::to_string(self_) + " has no channel to party " + std::to_string(peer));
}

void LocalMesh::send(int peer, std::span<const std::uint8_t> payload) {
  check_peer(peer);
  stats_.on_send(peer, payload.size());
  hub_->push(self_, peer, Bytes(payload.begin(), payload.end()));
}

Bytes LocalMesh::recv(int peer) {
  check_peer(peer);
  const auto start = std::chrono::steady_clock::now();
  Bytes frame = hub_->pop(peer, self_, timeout_);
  stats_.on_wait(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  stats_.on_receive(peer, frame.size());
  return frame;
}

std::vector<Bytes> LocalMesh::exchange(std::span<const Outgoing> out, std::span<const int> from) {
  // Queues are unbounded, so sending everything first cannot deadlock.
  for (const Outgoing& o : out) send(o.peer, o.payload);
  std::vector<Bytes> frames;
  frames.reserve(from.size());
  for (int peer : from) frames.push_back(recv(peer));
  stats_.on_round();
  return frames;
}

std::vector<std::unique_ptr<LocalMesh>> make_local_meshes(int parties, std::chrono::milliseconds timeout,
                                                         const LinkProfile& link) {
  auto hub = std::make_shared<LocalHub>(parties, link);
  std::vector<std::unique_ptr<LocalMesh>> meshes;
  for (int i = 0; i < parties; ++i) meshes.push_back(std::make_unique<LocalMesh>(hub, i, timeout));
  return meshes;
}

void run_local_parties(int parties, const std::function<void(Mesh&)>& body, std::chrono::milliseconds timeout,
                       const LinkProfile& link) {
  auto meshes = make_local_meshes(parties, timeout, link);
  std::vector<std::exception_ptr> errors(parties);
  std::vector<std::thread> threads;
  for (int i = 0; i < parties; ++i)
    threads.emplace_back([&, i] {
      try {
        body(*meshes[i]);
      } catch (...) {
        errors[i] = std::current_exception();
      }
    });
  for (auto& t : threads) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

}  // namespace net
