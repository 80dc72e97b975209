#include "protocols/fss/fss_lookup.hpp"

#include "protocols/fss/dpf.hpp"

#include <stdexcept>
#include <string>

namespace protocols::fss {

namespace {

constexpr const char* kWhat = "FSS lookup keys";
// Keys evaluated on their whole domain at once: bounds the working memory (16 bytes per table
// entry and key).
constexpr std::size_t kDomainEntriesPerChunk = std::size_t{1} << 20;

u64 low_mask(int bits) { return (u64{1} << bits) - 1; }

// The correction words as two ring matrices (blocks as two words), for one frame.
std::vector<RingMatrix> as_matrices(const DpfCorrections& keys) {
  const auto n = static_cast<Eigen::Index>(keys.keys());
  const int levels = keys.levels();
  RingMatrix seeds(n, 2 * levels), final(n, 2);
  for (Eigen::Index k = 0; k < n; ++k) {
    for (int l = 0; l < levels; ++l) {
      const Block b = keys.seed[k * levels + l];
      seeds(k, 2 * l) = b.lo, seeds(k, 2 * l + 1) = b.hi;
    }
    final(k, 0) = keys.final[k].lo, final(k, 1) = keys.final[k].hi;
  }
  return {seeds, final};
}

DpfCorrections read_corrections(MatrixReader& reader, std::size_t n, int bits) {
  const auto rows = static_cast<Eigen::Index>(n);
  DpfCorrections keys;
  keys.bits = bits;
  const int levels = keys.levels();
  const RingMatrix seeds = reader.next(rows, 2 * levels), final = reader.next(rows, 2);
  keys.seed.resize(n * levels);
  keys.final.resize(n);
  for (Eigen::Index k = 0; k < rows; ++k) {
    for (int l = 0; l < levels; ++l) keys.seed[k * levels + l] = {seeds(k, 2 * l), seeds(k, 2 * l + 1)};
    keys.final[k] = {final(k, 0), final(k, 1)};
  }
  return keys;
}

void check_requests(std::span<const Share> indices, std::span<const LookupTable* const> tables) {
  if (indices.size() != tables.size()) throw std::invalid_argument("FSS lookup: one table per index tensor");
  for (const LookupTable* t : tables) {
    if (t == nullptr || t->bits < 1 || t->bits > kMaxDpfBits)
      throw std::invalid_argument("FSS lookup: table bits must be in [1, " + std::to_string(kMaxDpfBits) + "]");
    if (t->entries.size() != (std::size_t{1} << t->bits)) throw std::invalid_argument("FSS lookup: a table holds 2^bits entries");
  }
}

// Party b's share of T[(y_k - r_k) mod 2^bits] for every key k: the domain evaluation of the key
// against the table read backwards from y_k.
std::vector<u64> table_shares(FixedKeyAes& aes, int party, std::span<const Block> root, const DpfCorrections& keys,
                              const RingMatrix& opened, const LookupTable& table) {
  const std::size_t n = keys.keys(), domain = std::size_t{1} << table.bits;
  const std::size_t chunk = std::max<std::size_t>(1, kDomainEntriesPerChunk / domain);
  std::vector<u64> out(n);
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t count = std::min(chunk, n - first);
    const std::vector<u64> e = dpf_evaluate_domain(aes, party, root, keys, first, count);
    for (std::size_t k = 0; k < count; ++k) {
      const u64* ek = e.data() + k * domain;
      const std::size_t y = static_cast<std::size_t>(opened.data()[first + k] & low_mask(table.bits));
      u64 sum = 0;
      for (std::size_t z = 0; z <= y; ++z) sum += table.entries[y - z] * ek[z];
      for (std::size_t z = y + 1; z < domain; ++z) sum += table.entries[y + domain - z] * ek[z];
      out[first + k] = sum;
    }
  }
  return out;
}

}  // namespace

// What both sides expand from the seeds, per request: masks and DPF roots of P0 and P1.
struct FssLookup::Material {
  std::vector<u64> mask0, mask1;
  std::vector<Block> root0, root1;
};

std::vector<FssLookup::Material> FssLookup::draw_material(std::span<const Share> indices,
                                                          std::span<const LookupTable* const> tables) {
  check_requests(indices, tables);
  std::vector<Material> out(indices.size());
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const std::size_t n = static_cast<std::size_t>(indices[i].first.size());
    if (mpc::Prg* p0 = dealing_.with_p0()) out[i].mask0 = words_from(*p0, n), out[i].root0 = blocks_from(*p0, n);
    if (mpc::Prg* p1 = dealing_.with_p1()) out[i].mask1 = words_from(*p1, n), out[i].root1 = blocks_from(*p1, n);
  }
  return out;
}

std::size_t FssLookup::dealer_bytes_per_lookup(int bits) { return 2 * DpfCorrections::bytes_per_key(bits); }

std::vector<Share> FssLookup::lookup(std::span<const Share> indices, std::span<const LookupTable* const> tables) {
  return dealing_.is_key_dealer() ? as_dealer(indices, tables) : as_party(indices, tables);
}

std::vector<Share> FssLookup::as_dealer(std::span<const Share> indices, std::span<const LookupTable* const> tables) {
  const std::vector<Material> material = draw_material(indices, tables);
  std::vector<RingMatrix> frame;
  std::vector<Shape> shapes;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const Material& m = material[i];
    const int bits = tables[i]->bits;
    std::vector<u64> alpha(m.mask0.size()), beta(m.mask0.size(), 1);
    for (std::size_t k = 0; k < alpha.size(); ++k) alpha[k] = (m.mask0[k] + m.mask1[k]) & low_mask(bits);
    for (RingMatrix& part : as_matrices(dpf_generate(dealing_.aes(), bits, alpha, beta, m.root0, m.root1)))
      frame.push_back(std::move(part));
    shapes.push_back(shape_of(indices[i].first));
  }
  dealing_.send_keys(frame, frame);
  return dealing_.dealer_shares(shapes);
}

std::vector<Share> FssLookup::as_party(std::span<const Share> indices, std::span<const LookupTable* const> tables) {
  const std::vector<Material> material = draw_material(indices, tables);
  const int self = dealing_.self();
  MatrixReader reader = dealing_.receive_keys(kWhat);
  std::vector<DpfCorrections> keys;
  for (std::size_t i = 0; i < indices.size(); ++i) keys.push_back(read_corrections(reader, static_cast<std::size_t>(indices[i].first.size()), tables[i]->bits));
  reader.expect_end();
  // All masked inputs in one column, opened in one round.
  Eigen::Index total = 0;
  for (const Share& x : indices) total += x.first.size();
  RingMatrix masked(total, 1);
  Eigen::Index at = 0;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const RingMatrix part = dealing_.additive_share(indices[i]);
    const std::vector<u64>& mask = self == 0 ? material[i].mask0 : material[i].mask1;
    for (Eigen::Index e = 0; e < part.size(); ++e) masked(at + e, 0) = part.data()[e] + mask[static_cast<std::size_t>(e)];
    at += part.size();
  }
  const RingMatrix opened = dealing_.open_between_parties(masked, "FSS lookup masked input");
  std::vector<RingMatrix> results;
  at = 0;
  for (std::size_t i = 0; i < indices.size(); ++i) {
    const Eigen::Index n = indices[i].first.size();
    const RingMatrix y = opened.middleRows(at, n);
    const std::vector<u64> s = table_shares(dealing_.aes(), self, self == 0 ? material[i].root0 : material[i].root1, keys[i], y, *tables[i]);
    RingMatrix r(indices[i].first.rows(), indices[i].first.cols());
    for (Eigen::Index e = 0; e < n; ++e) r.data()[e] = s[static_cast<std::size_t>(e)];
    results.push_back(std::move(r));
    at += n;
  }
  return dealing_.as_shares(std::move(results));
}

}  // namespace protocols::fss
