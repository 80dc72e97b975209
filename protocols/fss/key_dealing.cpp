#include "protocols/fss/key_dealing.hpp"

#include "protocols/common/seed_agreement.hpp"
#include "protocols/two_party/dealer_correlations.hpp"

#include <stdexcept>

namespace protocols::fss {

std::vector<Block> blocks_from(mpc::Prg& prg, std::size_t n) {
  std::vector<std::uint64_t> words(2 * n);
  prg.fill(std::span<std::uint64_t>(words));
  std::vector<Block> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = {words[2 * i], words[2 * i + 1]};
  return out;
}

std::vector<std::uint64_t> words_from(mpc::Prg& prg, std::size_t n) {
  std::vector<std::uint64_t> out(n);
  prg.fill(std::span<std::uint64_t>(out));
  return out;
}

KeyDealing::KeyDealing(Protocol& proto)
    : proto_(proto), self_(proto.mesh().self()), replicated_(proto.backend() == Backend::ThreePartyReplicated) {
  net::Mesh& mesh = proto.mesh();
  if (mesh.size() != 3) throw std::invalid_argument("FSS gates need a mesh of three parties");
  DealerSeeds seeds = agree_dealer_seeds(mesh, "FSS keys");
  prg_p0_ = std::move(seeds.with_p0);
  prg_p1_ = std::move(seeds.with_p1);
}

bool KeyDealing::is_key_dealer() const { return self_ == kDealerId; }

void KeyDealing::send_keys(std::span<const std::span<const std::uint64_t>> common, std::span<const RingMatrix> p1_only) {
  std::size_t common_bytes = 0;
  for (const auto& words : common) common_bytes += words.size_bytes();
  std::size_t total = common_bytes;
  for (const RingMatrix& m : p1_only) total += static_cast<std::size_t>(m.size()) * sizeof(std::uint64_t);
  net::Bytes frame;
  frame.reserve(total);
  auto append = [&frame](std::span<const std::uint64_t> words) {
    const auto bytes = std::as_bytes(words);
    const auto* at = reinterpret_cast<const std::uint8_t*>(bytes.data());
    frame.insert(frame.end(), at, at + bytes.size());
  };
  for (const auto& words : common) append(words);
  for (const RingMatrix& m : p1_only) append({m.data(), static_cast<std::size_t>(m.size())});
  net::Mesh& mesh = proto_.mesh();
  net::PhaseScope phase(mesh.stats(), kOfflinePhase);
  mesh.send(0, std::span<const std::uint8_t>(frame).first(common_bytes));
  mesh.send(1, frame);
}

void KeyDealing::send_keys(std::span<const RingMatrix> common, std::span<const RingMatrix> p1_only) {
  std::vector<std::span<const std::uint64_t>> words;
  for (const RingMatrix& m : common) words.emplace_back(m.data(), static_cast<std::size_t>(m.size()));
  send_keys(std::span<const std::span<const std::uint64_t>>(words), p1_only);
}

void KeyDealing::send_keys_to_p1(std::span<const RingMatrix> to_p1) {
  net::Mesh& mesh = proto_.mesh();
  net::PhaseScope phase(mesh.stats(), kOfflinePhase);
  mesh.send(1, pack(to_p1));
}

MatrixReader KeyDealing::receive_keys(const char* what) {
  net::Mesh& mesh = proto_.mesh();
  net::PhaseScope phase(mesh.stats(), kOfflinePhase);
  return MatrixReader(mesh.recv(kDealerId), what);
}

RingMatrix KeyDealing::additive_share(const Share& x) const {
  if (!replicated_) return x.first;
  return self_ == 0 ? RingMatrix(x.first + x.second) : x.second;
}

std::vector<RingMatrix> KeyDealing::open_between_parties(std::span<const RingMatrix> masked_parts,
                                                         std::span<const int> opened_bits, const char* what) {
  std::vector<int> bytes;  // their count and range are checked by the codec
  for (int bits : opened_bits) bytes.push_back(bytes_for_bits(bits));
  const int peer = 1 - self_;
  const net::Bytes payload = pack_low_bytes(masked_parts, bytes);
  const net::Outgoing out[] = {{peer, payload}};
  const int from[] = {peer};
  const std::vector<Shape> shapes = shapes_of(masked_parts);
  std::vector<RingMatrix> opened = unpack_low_bytes(proto_.mesh().exchange(out, from).at(0), shapes, bytes, what);
  for (std::size_t i = 0; i < opened.size(); ++i) opened[i] += masked_parts[i];
  return opened;
}

// 3PC: y_0 comes from P0's seed with P2 and y_2 from P1's, y_1 = (z_0 - y_0) + (z_1 - y_2): each of
// P0 and P1 sends the other its own part, masked by a component the receiver does not know.
std::vector<Share> KeyDealing::as_shares(std::vector<RingMatrix> parts) {
  std::vector<Share> out;
  if (!replicated_) {
    for (RingMatrix& z : parts) out.push_back(Share{std::move(z), RingMatrix()});
    return out;
  }
  mpc::Prg& with_key_dealer = self_ == 0 ? *prg_p0_ : *prg_p1_;
  std::vector<RingMatrix> own, sent;
  for (const RingMatrix& z : parts) {
    own.push_back(with_key_dealer.random(z.rows(), z.cols()));
    sent.push_back(z - own.back());
  }
  const int peer = 1 - self_;
  const net::Bytes payload = pack(std::span<const RingMatrix>(sent));
  const net::Outgoing outgoing[] = {{peer, payload}};
  const int from[] = {peer};
  const std::vector<Shape> shapes = shapes_of(sent);
  const std::vector<RingMatrix> theirs = unpack(proto_.mesh().exchange(outgoing, from).at(0), shapes, "FSS result reshare");
  for (std::size_t i = 0; i < parts.size(); ++i) {
    RingMatrix middle = sent[i] + theirs[i];
    out.push_back(self_ == 0 ? Share{std::move(own[i]), std::move(middle)} : Share{std::move(middle), std::move(own[i])});
  }
  return out;
}

std::vector<Share> KeyDealing::dealer_shares(std::span<const Shape> shapes) {
  std::vector<Share> out;
  for (const Shape& s : shapes) {
    if (!replicated_) {
      out.push_back(Share{RingMatrix::Zero(s.rows, s.cols), RingMatrix()});
      continue;
    }
    RingMatrix y0 = prg_p0_->random(s.rows, s.cols), y2 = prg_p1_->random(s.rows, s.cols);
    out.push_back(Share{std::move(y2), std::move(y0)});
  }
  return out;
}

std::size_t FssRound::add(std::optional<MaskedGate> gate, Shape result) {
  if (gate.has_value() == dealing_.is_key_dealer()) throw std::logic_error("FssRound: only P0 and P1 evaluate gates");
  if (gate) gates_.push_back(std::move(*gate));
  shapes_.push_back(result);
  return shapes_.size() - 1;
}

std::vector<Share> FssRound::run() {
  if (dealing_.is_key_dealer()) return dealing_.dealer_shares(shapes_);
  std::vector<RingMatrix> masked;
  std::vector<int> opened_bits;
  for (MaskedGate& g : gates_) {
    masked.push_back(std::move(g.masked));
    opened_bits.push_back(g.opened_bits);
  }
  const std::vector<RingMatrix> opened = dealing_.open_between_parties(masked, opened_bits, "FSS masked inputs");
  std::vector<RingMatrix> results;
  for (std::size_t i = 0; i < gates_.size(); ++i) results.push_back(gates_[i].evaluate(opened[i]));
  return dealing_.as_shares(std::move(results));
}

}  // namespace protocols::fss
