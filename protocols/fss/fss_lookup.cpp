#include "protocols/fss/fss_lookup.hpp"

#include <stdexcept>
#include <string>

namespace protocols::fss {

namespace {

constexpr const char* kWhat = "FSS lookup keys";
// Domain entries evaluated at once: the working arrays (16 bytes per entry) stay in the cache,
// which more than doubles the evaluation rate over whole batches.
constexpr std::size_t kDomainEntriesPerChunk = std::size_t{1} << 14;

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

void check_table(const LookupTable& t) {
  if (t.bits < 1 || t.bits > kMaxDpfBits)
    throw std::invalid_argument("FSS lookup: table bits must be in [1, " + std::to_string(kMaxDpfBits) + "]");
  if (t.entries.size() != (std::size_t{1} << t.bits)) throw std::invalid_argument("FSS lookup: a table holds 2^bits entries");
}

// visit(k, e_k, y_k) for every key k: party b's shares e_k of [z == r_k] on the whole domain and
// the opened y_k mod 2^bits, a chunk of keys at a time.
template <class Visit>
void for_each_evaluation(FixedKeyAes& aes, int party, std::span<const Block> root, const DpfCorrections& keys,
                         const RingMatrix& opened, Visit visit) {
  const std::size_t n = keys.keys(), domain = std::size_t{1} << keys.bits;
  const std::size_t chunk = std::max<std::size_t>(1, kDomainEntriesPerChunk / domain);
  for (std::size_t first = 0; first < n; first += chunk) {
    const std::size_t count = std::min(chunk, n - first);
    const std::vector<u64> e = dpf_evaluate_domain(aes, party, root, keys, first, count);
    for (std::size_t k = 0; k < count; ++k)
      visit(first + k, e.data() + k * domain, static_cast<std::size_t>(opened.data()[first + k] & low_mask(keys.bits)));
  }
}

// Party b's share of T[(y_k - r_k) mod 2^bits] for every key k and table T: the domain evaluation of
// the key against each table read backwards from y_k.
std::vector<std::vector<u64>> table_shares(FixedKeyAes& aes, int party, std::span<const Block> root, const DpfCorrections& keys,
                                           const RingMatrix& opened, const std::vector<const LookupTable*>& tables) {
  const std::size_t domain = std::size_t{1} << keys.bits;
  std::vector<std::vector<u64>> out(tables.size(), std::vector<u64>(keys.keys()));
  for_each_evaluation(aes, party, root, keys, opened, [&](std::size_t k, const u64* ek, std::size_t y) {
    for (std::size_t t = 0; t < tables.size(); ++t) {
      const std::vector<u64>& entries = tables[t]->entries;
      u64 sum = 0;
      for (std::size_t z = 0; z <= y; ++z) sum += entries[y - z] * ek[z];
      for (std::size_t z = y + 1; z < domain; ++z) sum += entries[y + domain - z] * ek[z];
      out[t][k] = sum;
    }
  });
  return out;
}

}  // namespace

// What both sides expand from the seeds: masks and DPF roots of P0 and P1.
struct FssLookup::Material {
  std::vector<u64> mask0, mask1;
  std::vector<Block> root0, root1;
};

FssLookup::Material FssLookup::draw_material(std::size_t n) {
  Material m;
  if (mpc::Prg* p0 = dealing_.with_p0()) m.mask0 = words_from(*p0, n), m.root0 = blocks_from(*p0, n);
  if (mpc::Prg* p1 = dealing_.with_p1()) m.mask1 = words_from(*p1, n), m.root1 = blocks_from(*p1, n);
  return m;
}

std::size_t FssLookup::dealer_bytes_per_lookup(int bits) { return 2 * DpfCorrections::bytes_per_key(bits); }

std::vector<Share> FssLookup::lookup(std::span<const Share> indices, std::span<const LookupTable* const> tables) {
  if (indices.size() != tables.size()) throw std::invalid_argument("FSS lookup: one table per index tensor");
  FssRound round(dealing_);
  for (std::size_t i = 0; i < indices.size(); ++i) {
    if (tables[i] == nullptr) throw std::invalid_argument("FSS lookup: no table");
    round.add(prepare(indices[i], tables.subspan(i, 1)), shape_of(indices[i].first));
  }
  return round.run();
}

std::optional<MaskedGate> FssLookup::prepare(const Share& index, std::span<const LookupTable* const> tables) {
  if (tables.empty()) throw std::invalid_argument("FSS lookup: no table");
  for (const LookupTable* t : tables) {
    if (t == nullptr) throw std::invalid_argument("FSS lookup: no table");
    check_table(*t);
    if (t->bits != tables.front()->bits) throw std::invalid_argument("FSS lookup: the tables of one index differ in bits");
  }
  Material m = draw_material(static_cast<std::size_t>(index.first.size()));
  if (!dealing_.is_key_dealer()) return receive(index, std::move(m), {tables.begin(), tables.end()});
  deal(m, tables.front()->bits);
  return std::nullopt;
}

void FssLookup::deal(const Material& m, int bits) {
  std::vector<u64> alpha(m.mask0.size()), beta(m.mask0.size(), 1);
  for (std::size_t k = 0; k < alpha.size(); ++k) alpha[k] = (m.mask0[k] + m.mask1[k]) & low_mask(bits);
  const std::vector<RingMatrix> frame = as_matrices(dpf_generate(dealing_.aes(), bits, alpha, beta, m.root0, m.root1));
  dealing_.send_keys(frame);
}

MaskedGate FssLookup::masked_index(const Share& index, const Material& m, int bits, DpfCorrections& keys) {
  const std::size_t n = static_cast<std::size_t>(index.first.size());
  MatrixReader reader = dealing_.receive_keys(kWhat);
  keys = read_corrections(reader, n, bits);
  reader.expect_end();
  MaskedGate gate;
  gate.masked = dealing_.additive_share(index);
  gate.opened_bits = bits;  // the index is read mod 2^bits
  const std::vector<u64>& mask = dealing_.self() == 0 ? m.mask0 : m.mask1;
  for (std::size_t e = 0; e < n; ++e) gate.masked.data()[e] += mask[e];
  return gate;
}

MaskedGate FssLookup::receive(const Share& index, Material m, std::vector<const LookupTable*> tables) {
  const int self = dealing_.self();
  DpfCorrections keys;
  MaskedGate gate = masked_index(index, m, tables.front()->bits, keys);
  std::vector<Block> root = std::move(self == 0 ? m.root0 : m.root1);
  gate.evaluate = [this, self, tables = std::move(tables), keys = std::move(keys), root = std::move(root)](const RingMatrix& opened) {
    const std::vector<std::vector<u64>> s = table_shares(dealing_.aes(), self, root, keys, opened, tables);
    const Eigen::Index rows = opened.rows(), cols = opened.cols();
    RingMatrix r(rows * static_cast<Eigen::Index>(tables.size()), cols);
    for (std::size_t t = 0; t < tables.size(); ++t) {
      // Row-major placement of table t's results in rows [t * rows, (t + 1) * rows).
      for (Eigen::Index e = 0; e < rows * cols; ++e) r(static_cast<Eigen::Index>(t) * rows + e / cols, e % cols) = s[t][static_cast<std::size_t>(e)];
    }
    return r;
  };
  return gate;
}

Share FssLookup::one_hot(const Share& index, int bits, Eigen::Index columns) {
  FssRound round(dealing_);
  round.add(prepare_one_hot(index, bits, columns), Shape{index.first.size(), columns});
  return std::move(round.run().front());
}

std::optional<MaskedGate> FssLookup::prepare_one_hot(const Share& index, int bits, Eigen::Index columns) {
  if (bits < 1 || bits > kMaxDpfBits)
    throw std::invalid_argument("FSS one-hot: bits must be in [1, " + std::to_string(kMaxDpfBits) + "]");
  if (columns < 1 || columns > (Eigen::Index{1} << bits)) throw std::invalid_argument("FSS one-hot: columns must be in [1, 2^bits]");
  Material m = draw_material(static_cast<std::size_t>(index.first.size()));
  if (!dealing_.is_key_dealer()) return receive_one_hot(index, std::move(m), bits, columns);
  deal(m, bits);
  return std::nullopt;
}

// Entry (e, j) is e's share of [z == r_e] at z = y_e - j, that is of [x_e == j].
MaskedGate FssLookup::receive_one_hot(const Share& index, Material m, int bits, Eigen::Index columns) {
  const int self = dealing_.self();
  DpfCorrections keys;
  MaskedGate gate = masked_index(index, m, bits, keys);
  std::vector<Block> root = std::move(self == 0 ? m.root0 : m.root1);
  gate.evaluate = [this, self, columns, keys = std::move(keys), root = std::move(root)](const RingMatrix& opened) {
    const std::size_t domain = std::size_t{1} << keys.bits;
    RingMatrix out(static_cast<Eigen::Index>(keys.keys()), columns);
    for_each_evaluation(dealing_.aes(), self, root, keys, opened, [&](std::size_t k, const u64* ek, std::size_t y) {
      for (Eigen::Index j = 0; j < columns; ++j)
        out(static_cast<Eigen::Index>(k), j) = ek[(y + domain - static_cast<std::size_t>(j)) & (domain - 1)];
    });
    return out;
  };
  return gate;
}

}  // namespace protocols::fss
