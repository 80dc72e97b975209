#include "parties/decode_bench_job.hpp"

#include "model/model_shapes.hpp"
#include "net/barrier.hpp"
#include "model/sampling.hpp"
#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "model/tokenizer.hpp"
#include "model/transformer.hpp"
#include "model/weights.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

namespace parties {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using protocols::Share;

constexpr int kOwnerOfWeights = 0;
constexpr int kUser = 1;
constexpr const char* kCacheSource =
    "the KV cache of n tokens comes from a plaintext prefill of public benchmark text run by the model owner (P0), "
    "secret-shared by P0; it is not a private prefill. The decode steps measured run entirely on secret shares.";

int longest(const DecodeBenchOptions& o) { return *std::max_element(o.cache_lengths.begin(), o.cache_lengths.end()); }

// Tokens needed: the longest cache, the token fed to the first step and one per further step.
int tokens_needed(const DecodeBenchOptions& o) { return longest(o) + 1; }

void validate(const DecodeBenchOptions& o) {
  if (o.cache_lengths.empty()) throw std::invalid_argument("--cache-lengths needs at least one length");
  for (int n : o.cache_lengths)
    if (n < 1) throw std::invalid_argument("cache lengths must be >= 1, got " + std::to_string(n));
  if (o.steps < 1) throw std::invalid_argument("--steps must be at least 1");
}

model::ModelConfig bench_config(const DecodeBenchOptions& o) {
  if (o.model_dir.empty()) return model::named_shape(o.shape, tokens_needed(o) + o.steps);
  auto config = model::ModelConfig::load(fs::path(o.model_dir) / "config.json");
  if (tokens_needed(o) + o.steps > config.max_positions)
    throw std::invalid_argument("cache length " + std::to_string(longest(o)) + " plus " + std::to_string(o.steps) +
                                " steps exceeds the context of " + o.model_dir + " (" +
                                std::to_string(config.max_positions) + " positions)");
  return config;
}

// The benchmark text as tokens, repeated if it is shorter than needed.
std::vector<int> bench_tokens(const DecodeBenchOptions& o) {
  std::ifstream in(o.text_file);
  if (!in) throw std::invalid_argument("cannot read the benchmark text " + o.text_file);
  std::stringstream text;
  text << in.rdbuf();
  const auto tokenizer = model::Tokenizer::load(o.model_dir.empty() ? o.tokenizer_dir : o.model_dir);
  const std::vector<int> once = tokenizer.encode(text.str());
  if (once.empty()) throw std::invalid_argument("the benchmark text " + o.text_file + " is empty");
  std::vector<int> tokens;
  while (static_cast<int>(tokens.size()) < tokens_needed(o)) tokens.insert(tokens.end(), once.begin(), once.end());
  tokens.resize(tokens_needed(o));
  return tokens;
}

model::TransformerWeights owner_weights(const DecodeBenchOptions& o, const model::ModelConfig& config) {
  return o.model_dir.empty() ? model::random_weights(config, o.weights_seed) : model::load_weights(o.model_dir);
}

// P0's plaintext side for one cache length: the prefill whose keys and values it shares, and the
// plaintext decode steps from the same point (time and greedy tokens, the reference).
struct PlaintextSide {
  std::vector<std::vector<mpc::FloatMatrix>> keys, values;  // per layer, per key/value head
  std::vector<double> step_seconds;
  std::vector<int> tokens;
};

PlaintextSide run_plaintext(const model::TransformerWeights& weights, const std::vector<int>& text, int n, int steps) {
  model::Transformer engine(weights);
  const auto start = Clock::now();
  engine.prefill(std::span(text.data(), static_cast<std::size_t>(n)));
  spdlog::info("party 0: plaintext prefill of {} tokens in {:.1f} s", n,
               std::chrono::duration<double>(Clock::now() - start).count());
  PlaintextSide side;
  for (const auto& layer : engine.cache()) {
    side.keys.emplace_back();
    side.values.emplace_back();
    for (const auto& head : layer.heads) {
      side.keys.back().push_back(head.keys);
      side.values.back().push_back(head.values);
    }
  }
  int token = text[n];
  for (int s = 0; s < steps; ++s) {
    const auto t0 = Clock::now();
    token = model::argmax(engine.decode(token));
    side.step_seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    side.tokens.push_back(token);
  }
  return side;
}

// Secret-shares P0's cached keys and values (shape-only on the other parties).
void share_cache(protocols::Protocol& proto, model::secure::SecureTransformer& engine, const PlaintextSide* plain, int n) {
  const model::ModelConfig& c = engine.config();
  const mpc::FixedPoint& fp = proto.fixed_point();
  std::vector<std::vector<Share>> keys(c.layers), values(c.layers);
  for (int l = 0; l < c.layers; ++l)
    for (int g = 0; g < c.kv_heads; ++g) {
      std::optional<mpc::RingMatrix> k, v;
      if (plain) {
        k = fp.encode(plain->keys[l][g]);
        v = fp.encode(plain->values[l][g]);
      }
      keys[l].push_back(proto.input(kOwnerOfWeights, k ? &*k : nullptr, n, c.head_dim));
      values[l].push_back(proto.input(kOwnerOfWeights, v ? &*v : nullptr, n, c.head_dim));
    }
  engine.adopt_cache(keys, values, n);
}

Share first_token_one_hot(protocols::Protocol& proto, const model::ModelConfig& c, int token) {
  std::optional<mpc::RingMatrix> one_hot;
  if (proto.role() == protocols::Role::P1) {
    one_hot = mpc::RingMatrix::Zero(1, c.vocab_size);
    (*one_hot)(0, token) = 1;
  }
  return proto.input(kUser, one_hot ? &*one_hot : nullptr, 1, c.vocab_size);
}

struct Snapshot {
  Clock::time_point time;
  net::ProfileFigures counters;

  static Snapshot take(const net::Stats& stats) { return {Clock::now(), net::traffic_totals(stats)}; }
};

DecodeStepFigures timed_step(protocols::Protocol& proto, model::secure::SecureTransformer& engine, Share& one_hot,
                             std::vector<int>& tokens) {
  net::Mesh& mesh = proto.mesh();
  {
    net::PhaseScope phase(mesh.stats(), "sync");
    net::barrier(mesh);  // every party starts the step together (outside the figures)
  }
  mesh.profile().reset();
  const Snapshot before = Snapshot::take(mesh.stats());
  const Share logits = engine.decode(one_hot);
  model::secure::NextToken next;
  {
    net::PhaseScope phase(mesh.stats(), model::secure::kDecodePhase);
    next = engine.greedy_token(logits);
  }
  const Snapshot after = Snapshot::take(mesh.stats());
  one_hot = next.one_hot;
  if (next.token) tokens.push_back(*next.token);
  DecodeStepFigures f;
  f.seconds = std::chrono::duration<double>(after.time - before.time).count();
  f.online_bytes_sent = after.counters.online_bytes_sent - before.counters.online_bytes_sent;
  f.offline_bytes_sent = after.counters.offline_bytes_sent - before.counters.offline_bytes_sent;
  f.rounds = after.counters.rounds - before.counters.rounds;
  f.profile = mesh.profile().classes();
  return f;
}

CacheLengthResult bench_cache_length(protocols::Protocol& proto, model::secure::SecureTransformer& engine,
                                     const model::TransformerWeights* weights, const std::vector<int>& text, int n,
                                     int steps) {
  CacheLengthResult result;
  result.cache_length = n;
  std::optional<PlaintextSide> plain;
  if (weights) {
    plain = run_plaintext(*weights, text, n, steps);
    result.plaintext_step_seconds = plain->step_seconds;
    result.plaintext_tokens = plain->tokens;
  }
  share_cache(proto, engine, plain ? &*plain : nullptr, n);
  plain.reset();  // frees the plaintext copy of the cache before the secure steps
  Share one_hot = first_token_one_hot(proto, engine.config(), text[n]);
  const int self = proto.mesh().self();
  for (int s = 0; s < steps; ++s) {
    result.steps.push_back(timed_step(proto, engine, one_hot, result.secure_tokens));
    spdlog::info("party {}: cache of {} tokens, decode step {}/{} in {:.3f} s", self, n, s + 1, steps,
                 result.steps.back().seconds);
  }
  return result;
}

nlohmann::json shape_json(const model::ModelConfig& c) {
  return {{"architecture", model::to_string(c.architecture)}, {"hidden", c.hidden_size}, {"layers", c.layers},
          {"heads", c.heads}, {"head_dim", c.head_dim}, {"vocab", c.vocab_size}, {"mlp", c.intermediate_size}};
}

}  // namespace

nlohmann::json DecodeStepFigures::to_json() const {
  nlohmann::json classes = nlohmann::json::object();
  for (const auto& [name, figures] : profile) classes[name] = figures.to_json();
  return {{"seconds", seconds}, {"online_bytes_sent", online_bytes_sent}, {"offline_bytes_sent", offline_bytes_sent},
          {"rounds", rounds}, {"profile", classes}};
}

nlohmann::json CacheLengthResult::to_json() const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const auto& s : steps) steps_json.push_back(s.to_json());
  nlohmann::json j = {{"cache_length", cache_length}, {"steps", steps_json}};
  if (!plaintext_step_seconds.empty()) {
    j["plaintext_step_seconds"] = plaintext_step_seconds;
    j["plaintext_tokens"] = plaintext_tokens;
  }
  if (!secure_tokens.empty()) j["secure_tokens"] = secure_tokens;
  return j;
}

std::string decode_bench_session_config(const DecodeBenchOptions& o) {
  validate(o);
  std::string lengths;
  for (int n : o.cache_lengths) lengths += std::to_string(n) + ",";
  return model::secure::secure_session_config(bench_config(o)) + " decode-bench lengths " + lengths + " steps " +
         std::to_string(o.steps) + " text " + fs::path(o.text_file).filename().string();
}

nlohmann::json run_decode_bench_job(protocols::Protocol& proto, const DecodeBenchOptions& o) {
  validate(o);
  const int self = proto.mesh().self();
  const model::ModelConfig config = bench_config(o);
  const std::vector<int> text = bench_tokens(o);
  std::optional<model::TransformerWeights> weights;
  if (self == kOwnerOfWeights) weights = owner_weights(o, config);
  model::secure::SecureTransformer engine(proto, config, weights ? &*weights : nullptr);
  spdlog::info("party {}: weights shared and masked", self);
  nlohmann::json lengths = nlohmann::json::array();
  for (int n : o.cache_lengths)
    lengths.push_back(bench_cache_length(proto, engine, weights ? &*weights : nullptr, text, n, o.steps).to_json());
  return {{"shape", shape_json(config)},
          {"model", o.model_dir.empty() ? o.shape + " (seeded random weights)" : o.model_dir},
          {"cache_source", kCacheSource},
          {"text", o.text_file},
          {"lengths", lengths}};
}

}  // namespace parties
