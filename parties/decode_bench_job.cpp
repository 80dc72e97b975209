#include "parties/decode_bench_job.hpp"

#include "kvcache/cluster_boxes.hpp"
#include "kvcache/cluster_selection.hpp"
#include "kvcache/registry/policy_registry.hpp"
#include "kvcache/rules/policy_counts.hpp"
#include "kvcache/secure/secure_cache_policy.hpp"
#include "model/model_shapes.hpp"
#include "net/barrier.hpp"
#include "model/sampling.hpp"
#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "model/tokenizer.hpp"
#include "model/transformer.hpp"
#include "model/weights.hpp"
#include "parties/peak_memory.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <stdexcept>
#include <utility>

namespace parties {

namespace {

namespace fs = std::filesystem;

using Clock = std::chrono::steady_clock;
using protocols::Share;

constexpr int kOwnerOfWeights = 0;
constexpr int kUser = 1;
constexpr const char* kPlaintextCacheSource =
    "the KV cache of n tokens comes from a plaintext prefill of public benchmark text run by the model owner (P0), "
    "secret-shared by P0; it is not a private prefill. Prompt-time work of a cache policy (static eviction, "
    "initial cluster or page bounds, initial scores) is part of that plaintext prefill. The decode steps measured "
    "run entirely on secret shares.";
constexpr const char* kPrivateCacheSource =
    "the KV cache of n tokens comes from a private prefill: P1 inputs the public benchmark text as its secret "
    "prompt and the parties run the whole prompt pass on secret shares, then the policy's prompt-time work "
    "(MPCache's static eviction voting with the prompt attention, cluster or page boxes over the kept rows) on "
    "shares too; its costs are in each row's private_prefill, by phase. The decode steps measured run entirely "
    "on secret shares.";

// The configuration of every benchmark policy at cache length n: the baselines get MPCache's
// attending-token count as their budget, sinks and windows inside it (the registry's variants
// adjust it further when their policies are made).
kvcache::PolicyConfig bench_policy_config(const kvcache::PolicyConfig& base, int n) {
  kvcache::PolicyConfig c = base;
  c.budget = kvcache::Budget{1.0, bench_budget_tokens(base, n)};
  c.window_outside_budget = false;
  return c;
}

// Progress of the benchmark on stderr whatever the log level: a long run must not look dead. Each
// line ends with the process's peak resident memory so far, so that a long run shows where its
// memory goes.
void progress(const std::string& line) {
  std::cerr << line << fmt::format(" [peak {:.2f} GB]", double(peak_rss_bytes()) / 1e9) << std::endl;
}

double median_of(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

int longest(const DecodeBenchOptions& o) { return *std::max_element(o.cache_lengths.begin(), o.cache_lengths.end()); }

// Tokens needed: the longest cache, the token fed to the first step and one per further step.
int tokens_needed(const DecodeBenchOptions& o) { return longest(o) + 1; }

void validate(const DecodeBenchOptions& o) {
  if (o.cache_lengths.empty()) throw std::invalid_argument("--cache-lengths needs at least one length");
  if (o.policies.empty()) throw std::invalid_argument("--policies needs at least one policy");
  const auto known = bench_policy_names();
  for (const auto& p : o.policies)
    if (std::find(known.begin(), known.end(), p) == known.end())
      throw std::invalid_argument("unknown benchmark policy '" + p + "'");
  if (o.private_prefill) {
    const auto supported = private_prefill_policy_names();
    for (const auto& p : o.policies)
      if (std::find(supported.begin(), supported.end(), p) == supported.end())
        throw std::invalid_argument("--prefill private does not support the policy '" + p +
                                    "': it cuts the prompt to its budget per key/value head, which has no secure form "
                                    "yet; use --prefill plaintext for it");
  }
  kvcache::validate(o.policy_config);
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
  std::vector<std::vector<std::vector<double>>> accumulated_scores;  // per layer, per key/value head (empty: none)
  std::vector<double> step_seconds;
  std::vector<int> tokens;
};

// How P0's plaintext engine starts at one cache length. Several policies share one prefill
// snapshot (the full cache and the prompt queries, copied for each policy but the last, which
// takes it over). A single policy prefills directly: its prompt-time eviction then compacts each
// layer while the prompt passes, and the full cache of n rows is never held.
struct PlaintextPrompt {
  std::span<const int> tokens;
  std::optional<model::PrefillSnapshot> snapshot;
};

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

PlaintextPrompt plaintext_prompt(const model::TransformerWeights& weights, const std::vector<int>& text, int n,
                                 std::size_t policies) {
  PlaintextPrompt prompt{std::span(text.data(), static_cast<std::size_t>(n)), std::nullopt};
  if (policies < 2) return prompt;
  model::Transformer engine(weights);
  const auto start = Clock::now();
  prompt.snapshot = engine.prefill_snapshot(prompt.tokens);
  progress(fmt::format("party 0: plaintext prefill of {} tokens in {:.1f} s (shared by {} policies)", n,
                       seconds_since(start), policies));
  return prompt;
}

void start_plaintext(model::Transformer& engine, PlaintextPrompt& prompt, bool last_policy, kvcache::CachePolicy* policy) {
  if (!prompt.snapshot) {
    const auto start = Clock::now();
    engine.prefill(prompt.tokens, policy);
    progress(fmt::format("party 0: plaintext prefill of {} tokens in {:.1f} s ({}'s prompt-time rule applied layer by layer)",
                         prompt.tokens.size(), seconds_since(start), policy->name()));
  } else if (last_policy) {
    engine.resume(std::move(*prompt.snapshot), policy);
    prompt.snapshot.reset();  // not needed again for this n: not held beside the shares
  } else {
    engine.resume(*prompt.snapshot, policy);
  }
}

PlaintextSide run_plaintext(const model::TransformerWeights& weights, PlaintextPrompt& prompt, bool last_policy,
                            int next_token, int steps, const std::string& policy_name, const kvcache::PolicyConfig& config) {
  model::Transformer engine(weights);
  const std::unique_ptr<kvcache::CachePolicy> plain_policy = kvcache::make_policy(policy_name, config);
  start_plaintext(engine, prompt, last_policy, plain_policy.get());
  PlaintextSide side;
  for (int l = 0; l < weights.config.layers; ++l) {
    side.accumulated_scores.emplace_back();
    for (int g = 0; g < weights.config.kv_heads; ++g)
      side.accumulated_scores.back().push_back(plain_policy->accumulated_scores(l, g));
  }
  for (const auto& layer : engine.cache()) {
    side.keys.emplace_back();
    side.values.emplace_back();
    for (const auto& head : layer.heads) {
      side.keys.back().push_back(head.keys);
      side.values.back().push_back(head.values);
    }
  }
  int token = next_token;
  for (int s = 0; s < steps; ++s) {
    const auto t0 = Clock::now();
    token = model::argmax(engine.decode(token));
    side.step_seconds.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
    side.tokens.push_back(token);
  }
  return side;
}

// Secret-shares P0's cached keys and values (shape-only on the other parties). P0's plaintext copy
// of each head is freed once it is shared, so the cache is not held in plaintext beside its shares.
void share_cache(protocols::Protocol& proto, model::secure::SecureTransformer& engine, PlaintextSide* plain, int n,
                 int tokens_processed) {
  if (plain && plain->keys.front().front().rows() != n)
    throw std::logic_error("the plaintext prefill kept " + std::to_string(plain->keys.front().front().rows()) +
                           " rows, the parties expect " + std::to_string(n));
  const model::ModelConfig& c = engine.config();
  const mpc::FixedPoint& fp = proto.fixed_point();
  std::vector<std::vector<Share>> keys(c.layers), values(c.layers);
  for (int l = 0; l < c.layers; ++l)
    for (int g = 0; g < c.kv_heads; ++g) {
      std::optional<mpc::RingMatrix> k, v;
      if (plain) {
        k = fp.encode(std::exchange(plain->keys[l][g], {}));
        v = fp.encode(std::exchange(plain->values[l][g], {}));
      }
      keys[l].push_back(proto.input(kOwnerOfWeights, k ? &*k : nullptr, n, c.head_dim));
      values[l].push_back(proto.input(kOwnerOfWeights, v ? &*v : nullptr, n, c.head_dim));
    }
  engine.adopt_cache(std::move(keys), std::move(values), n, tokens_processed);
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
  std::map<int, net::Counters> online_to, offline_to;

  static Snapshot take(const net::Stats& stats) {
    return {Clock::now(), net::traffic_totals(stats), stats.sent_by_peer(net::kOfflinePhase, false),
            stats.sent_by_peer(net::kOfflinePhase, true)};
  }
};

// Wire bytes sent to each peer between two readings.
std::map<int, std::uint64_t> wire_bytes_between(const std::map<int, net::Counters>& before,
                                                const std::map<int, net::Counters>& after) {
  std::map<int, std::uint64_t> sent;
  for (const auto& [peer, c] : after) {
    const auto it = before.find(peer);
    sent[peer] = c.wire_bytes_sent - (it == before.end() ? 0 : it->second.wire_bytes_sent);
  }
  return sent;
}

// Runs `work` with every party starting together and returns this party's figures for it.
DecodeStepFigures measured(net::Mesh& mesh, const std::function<void()>& work) {
  {
    net::PhaseScope phase(mesh.stats(), "sync");
    net::barrier(mesh);  // outside the figures
  }
  mesh.profile().reset();
  const Snapshot before = Snapshot::take(mesh.stats());
  work();
  const Snapshot after = Snapshot::take(mesh.stats());
  DecodeStepFigures f;
  f.seconds = std::chrono::duration<double>(after.time - before.time).count();
  f.online_bytes_sent = after.counters.online_bytes_sent - before.counters.online_bytes_sent;
  f.offline_bytes_sent = after.counters.offline_bytes_sent - before.counters.offline_bytes_sent;
  f.rounds = after.counters.rounds - before.counters.rounds;
  f.wait_seconds = after.counters.wait_seconds - before.counters.wait_seconds;
  f.offline_wait_seconds = after.counters.offline_wait_seconds - before.counters.offline_wait_seconds;
  f.online_wire_bytes_to = wire_bytes_between(before.online_to, after.online_to);
  f.offline_wire_bytes_to = wire_bytes_between(before.offline_to, after.offline_to);
  f.profile = mesh.profile().classes();
  return f;
}

DecodeStepFigures timed_step(protocols::Protocol& proto, model::secure::SecureTransformer& engine, Share& one_hot,
                             std::vector<int>& tokens) {
  model::secure::NextToken next;
  const DecodeStepFigures f = measured(proto.mesh(), [&] {
    const Share logits = engine.decode(one_hot);
    net::PhaseScope phase(proto.mesh().stats(), model::secure::kDecodePhase);
    next = engine.greedy_token(logits);
  });
  one_hot = next.one_hot;
  if (next.token) tokens.push_back(*next.token);
  return f;
}

// The prompt pass of the first n benchmark tokens on shares, P1 inputting them as its prompt; the
// engine's cache policy runs its prompt-time work inside it.
DecodeStepFigures private_prefill(protocols::Protocol& proto, model::secure::SecureTransformer& engine,
                                  const std::vector<int>& text, int n) {
  const bool user = proto.role() == protocols::Role::P1;
  const std::span<const int> prompt = user ? std::span(text.data(), static_cast<std::size_t>(n)) : std::span<const int>{};
  return measured(proto.mesh(), [&] { engine.prefill(prompt, n); });
}

// A private prefill's figures split by phase: the policy's prompt-time work by its profile classes
// (eviction, boxes, other selection work such as H2O's prompt scores), the forward pass the rest.
nlohmann::json prefill_phases(const DecodeStepFigures& f) {
  net::ProfileFigures total;
  total.seconds = f.seconds;
  total.online_bytes_sent = f.online_bytes_sent;
  total.offline_bytes_sent = f.offline_bytes_sent;
  total.rounds = f.rounds;
  total.wait_seconds = f.wait_seconds;
  total.offline_wait_seconds = f.offline_wait_seconds;
  net::ProfileFigures eviction, boxes, other_policy_work;
  for (const auto& [name, figures] : f.profile) {
    if (name == kvcache::secure::kProfileEviction) eviction += figures;
    else if (name == kvcache::secure::kProfileSelectionBoxes) boxes += figures;
    else if (name.rfind("selection.", 0) == 0) other_policy_work += figures;
  }
  net::ProfileFigures forward = total;
  forward -= eviction;
  forward -= boxes;
  forward -= other_policy_work;
  return {{"forward", forward.to_json()}, {"eviction", eviction.to_json()}, {"boxes", boxes.to_json()},
          {"other_policy_work", other_policy_work.to_json()}};
}

// The prompt-time state of the secure policy comes from the cache source's plaintext prefill, like
// the cache itself: P0 knows it and inputs what the policy adopts (MPCache's cluster boxes, Quest's
// page bounds, H2O's accumulated scores); the other parties hold an empty source.
class PlaintextPromptState final : public kvcache::secure::PromptStateSource {
 public:
  PlaintextPromptState(const PlaintextSide* plain, int layers, int rows) : plain_(plain), layers_(layers), rows_(rows) {}
  int owner() const override { return kOwnerOfWeights; }
  bool known() const override { return plain_ != nullptr; }
  int layers() const override { return layers_; }
  int rows() const override { return rows_; }
  std::vector<kvcache::PlainHeadBoxes> boxes(int layer, const kvcache::ClusterSelectionParams& params) const override {
    std::vector<kvcache::PlainHeadBoxes> heads;
    for (const auto& keys : plain_->keys.at(static_cast<std::size_t>(layer))) heads.push_back(kvcache::plain_head_boxes(keys, params));
    return heads;
  }
  std::vector<std::vector<double>> accumulated_scores(int layer) const override {
    return plain_->accumulated_scores.at(static_cast<std::size_t>(layer));
  }

 private:
  const PlaintextSide* plain_;
  int layers_, rows_;
};

// The least memory this party's secret state needs, by the protocol: a 2PC party one share of
// every secret tensor plus the opened W - B of each fixed operand (both are read by every product
// with it), the dealer the mask of each fixed operand, a 3PC party two of the three replicated
// components; P0 also its plaintext weights and cache, counted in fp32. Peak resident memory is
// reported beside it.
std::uint64_t necessary_bytes(const protocols::Protocol& proto, const model::secure::SecretElements& e) {
  constexpr std::uint64_t kRing = sizeof(mpc::u64), kFp32 = 4;
  std::uint64_t bytes = 0;
  if (proto.role() == protocols::Role::Dealer) bytes = kRing * e.fixed;
  else if (proto.backend() == protocols::Backend::TwoPartyDealer) bytes = kRing * (2 * e.fixed + e.other);
  else bytes = kRing * 2 * (e.fixed + e.other);
  if (proto.role() == protocols::Role::P0) bytes += kFp32 * (e.fixed + e.other);
  return bytes;
}

// A random-weight shape's position table is sized to the longest cache (a real GPT-2 has 1024
// learned positions); the description says so, since the table is part of the shares.
std::string random_shape_description(const DecodeBenchOptions& o, const model::ModelConfig& c) {
  return o.shape + " (seeded random weights; position table of " + std::to_string(c.max_positions) +
         " rows, sized to the longest cache)";
}

CacheLengthResult bench_cache_length(protocols::Session& session, model::secure::SecureTransformer& engine,
                                     const model::TransformerWeights* weights,
                                     PlaintextPrompt* prompt, bool last_policy,
                                     const std::vector<int>& text, int n, const std::string& policy_name,
                                     const DecodeBenchOptions& o) {
  protocols::Protocol& proto = session.protocol();
  const int steps = o.steps;
  const kvcache::PolicyConfig config = bench_policy_config(o.policy_config, n);
  CacheLengthResult result;
  result.cache_length = n;
  result.policy = policy_name;
  result.cached_rows = kvcache::policy_entry(policy_name).rows_kept(config, n);
  result.budget_tokens = config.budget.tokens;
  std::optional<PlaintextSide> plain;
  if (weights) {
    plain = run_plaintext(*weights, *prompt, last_policy, text[n], steps, policy_name, config);
    result.plaintext_step_seconds = plain->step_seconds;
    result.plaintext_tokens = plain->tokens;
  }
  protocols::ops::SecureOps ops(session);
  const auto secure_policy = kvcache::make_secure_policy(policy_name, ops, config);
  engine.set_cache_policy(secure_policy.get());
  if (o.private_prefill) {
    plain.reset();  // P0 shares nothing: P1's prompt is the input
    result.private_prefill = private_prefill(proto, engine, text, n);
    // The secure cache keeps every prompt row unless the policy evicts on shares (MPCache): what
    // its secure form keeps, not necessarily what the plaintext form stores (StreamingLLM).
    result.cached_rows = engine.cache_rows();
    progress(fmt::format("party {}: {}, private prefill of {} tokens ({} kept) in {:.1f} s", proto.mesh().self(), policy_name,
                         n, result.cached_rows, result.private_prefill->seconds));
  } else {
    // The state is taken now, while P0's plaintext keys are there (share_cache frees them).
    secure_policy->adopt_prompt_state(PlaintextPromptState(plain ? &*plain : nullptr, engine.config().layers, result.cached_rows));
    share_cache(proto, engine, plain ? &*plain : nullptr, result.cached_rows, n);
    plain.reset();  // frees the plaintext copy of the cache before the secure steps
    progress(fmt::format("party {}: {}, cache of {} rows shared and masked", proto.mesh().self(), policy_name,
                         result.cached_rows));
  }
  Share one_hot = first_token_one_hot(proto, engine.config(), text[n]);
  const int self = proto.mesh().self();
  for (int s = 0; s < steps; ++s) {
    result.steps.push_back(timed_step(proto, engine, one_hot, result.secure_tokens));
    progress(fmt::format("party {}: {}, cache of {} tokens ({} kept), decode step {}/{} in {:.3f} s", self,
                         policy_name, n, result.cached_rows, s + 1, steps, result.steps.back().seconds));
  }
  engine.set_cache_policy(nullptr);
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
  auto per_peer = [](const std::map<int, std::uint64_t>& bytes) {
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [peer, b] : bytes) j[std::to_string(peer)] = b;
    return j;
  };
  return {{"seconds", seconds},
          {"online_bytes_sent", online_bytes_sent},
          {"offline_bytes_sent", offline_bytes_sent},
          {"rounds", rounds},
          {"wait_seconds", wait_seconds},
          {"offline_wait_seconds", offline_wait_seconds},
          {"online_wire_bytes_to", per_peer(online_wire_bytes_to)},
          {"offline_wire_bytes_to", per_peer(offline_wire_bytes_to)},
          {"profile", classes}};
}

nlohmann::json CacheLengthResult::to_json() const {
  nlohmann::json steps_json = nlohmann::json::array();
  for (const auto& s : steps) steps_json.push_back(s.to_json());
  nlohmann::json j = {{"cache_length", cache_length}, {"policy", policy}, {"cached_rows", cached_rows},
                      {"budget_tokens", budget_tokens}, {"steps", steps_json},
                      {"prefill", private_prefill ? "private" : "plaintext"}};
  if (private_prefill) {
    j["private_prefill"] = private_prefill->to_json();
    j["private_prefill"]["phases"] = prefill_phases(*private_prefill);
  }
  if (!plaintext_step_seconds.empty()) {
    j["plaintext_step_seconds"] = plaintext_step_seconds;
    j["plaintext_tokens"] = plaintext_tokens;
  }
  if (!secure_tokens.empty()) j["secure_tokens"] = secure_tokens;
  return j;
}

std::vector<std::string> private_prefill_policy_names() {
  return kvcache::secure_policy_names(kvcache::SecurePrefill::OnShares, true);
}

std::vector<std::string> bench_policy_names() { return kvcache::secure_policy_names(kvcache::SecurePrefill::FromSource, true); }

int bench_budget_tokens(const kvcache::PolicyConfig& config, int n) {
  const int rows = kvcache::rules::mpcache_static_counts(config, n).capacity + 1;  // the first decode step's cache
  return std::min(n, kvcache::cluster_selection_shape(rows, kvcache::ClusterSelectionParams::from(config)).attending_rows());
}

std::string decode_bench_session_config(const DecodeBenchOptions& o) {
  validate(o);
  std::string lengths, policies;
  for (int n : o.cache_lengths) lengths += std::to_string(n) + ",";
  for (const auto& p : o.policies) policies += p + ",";
  // Every party must run the same policy program: counts and shapes follow from these fields.
  policies += kvcache::describe(o.policy_config);
  return model::secure::secure_session_config(bench_config(o)) + " decode-bench lengths " + lengths + " steps " +
         std::to_string(o.steps) + " text " + fs::path(o.text_file).filename().string() + " policies " + policies + " nonlinear " +
         protocols::to_string(o.comparisons) + " prefill " + (o.private_prefill ? "private" : "plaintext");
}

nlohmann::json run_decode_bench_job(protocols::Session& session, const DecodeBenchOptions& o,
                                    const std::function<void(const nlohmann::json&)>& on_finished) {
  validate(o);
  const int self = session.protocol().mesh().self();
  const model::ModelConfig config = bench_config(o);
  const std::vector<int> text = bench_tokens(o);
  std::optional<model::TransformerWeights> weights;
  if (self == kOwnerOfWeights) weights = owner_weights(o, config);
  model::secure::SecureTransformer engine(session, config, weights ? &*weights : nullptr);
  progress(fmt::format("party {}: weights shared and masked", self));
  nlohmann::json result = {{"shape", shape_json(config)},
                           {"model", o.model_dir.empty() ? random_shape_description(o, config) : o.model_dir},
                           {"cache_source", o.private_prefill ? kPrivateCacheSource : kPlaintextCacheSource},
                           {"text", o.text_file},
                           {"lengths", nlohmann::json::array()}};
  for (int n : o.cache_lengths) {
    engine.release_cache();  // the previous length's shares and masks, before the next prefill
    std::optional<PlaintextPrompt> prompt;
    if (weights) prompt = plaintext_prompt(*weights, text, n, o.policies.size());
    for (const auto& policy : o.policies) {
      const bool last_policy = &policy == &o.policies.back();
      nlohmann::json row =
          bench_cache_length(session, engine, weights ? &*weights : nullptr, prompt ? &*prompt : nullptr, last_policy, text, n,
                             policy, o)
              .to_json();
      // The process peak up to the end of this row, so the memory a cache length needs can be read
      // per party (the shares, the masks, P0's plaintext prefill).
      row["peak_rss_bytes"] = peak_rss_bytes();
      row["necessary_bytes"] = necessary_bytes(session.protocol(), engine.secret_elements());
      result["lengths"].push_back(std::move(row));
      result["peak_rss_bytes"] = peak_rss_bytes();
      if (on_finished) on_finished(result);
    }
  }
  result["peak_rss_bytes"] = peak_rss_bytes();
  return result;
}

namespace {

// "  private prefill 12.3 s, 456.78 MB sent, 1234 rounds: forward 10.1 s, eviction 1.2 s, boxes 1.0 s"
std::string private_prefill_line(const nlohmann::json& prefill) {
  auto megabytes_sent = [](const nlohmann::json& f) {
    return double(f["online_bytes_sent"].get<std::uint64_t>() + f["offline_bytes_sent"].get<std::uint64_t>()) / 1e6;
  };
  const auto& phases = prefill["phases"];
  return fmt::format("  private prefill {:.1f} s, {:.2f} MB sent, {} rounds: forward {:.1f} s, eviction {:.1f} s / {} rounds, "
                     "boxes {:.1f} s / {} rounds\n",
                     prefill["seconds"].get<double>(), megabytes_sent(prefill), prefill["rounds"].get<std::uint64_t>(),
                     phases["forward"]["seconds"].get<double>(), phases["eviction"]["seconds"].get<double>(),
                     phases["eviction"]["rounds"].get<std::uint64_t>(), phases["boxes"]["seconds"].get<double>(),
                     phases["boxes"]["rounds"].get<std::uint64_t>());
}

}  // namespace

void print_decode_bench_summary(const nlohmann::json& result, int self, std::ostream& out) {
  out << "party " << self << ": decode steps from a secret-shared cache (" << result["model"].get<std::string>()
      << "); this party's time, bytes sent and rounds, medians over the steps\n"
      << std::left << std::setw(18) << "policy" << std::right << std::setw(8) << "n" << std::setw(8) << "cached"
      << std::setw(10) << "step s" << std::setw(12) << "sent MB" << std::setw(9) << "rounds"
      << std::setw(11) << "peak MB" << (self == kOwnerOfWeights ? "  plaintext ms" : self == kUser ? "  tokens" : "")
      << "\n";
  for (const auto& length : result["lengths"]) {
    std::vector<double> seconds, sent, rounds;
    for (const auto& step : length["steps"]) {
      seconds.push_back(step["seconds"].get<double>());
      sent.push_back(double(step["online_bytes_sent"].get<std::uint64_t>() + step["offline_bytes_sent"].get<std::uint64_t>()));
      rounds.push_back(double(step["rounds"].get<std::uint64_t>()));
    }
    out << std::left << std::setw(18) << length["policy"].get<std::string>() << std::right << std::setw(8)
        << length["cache_length"].get<int>() << std::setw(8) << length["cached_rows"].get<int>() << std::fixed
        << std::setprecision(3) << std::setw(10) << median_of(seconds) << std::setprecision(2) << std::setw(12)
        << median_of(sent) / 1e6 << std::setprecision(0) << std::setw(9) << median_of(rounds) << std::setw(11)
        << double(length.value("peak_rss_bytes", std::uint64_t{0})) / 1e6;
    if (length.contains("plaintext_step_seconds"))
      out << std::setprecision(2) << std::setw(14) << 1e3 * median_of(length["plaintext_step_seconds"].get<std::vector<double>>());
    if (length.contains("secure_tokens")) out << "  " << length["secure_tokens"].dump();
    out << std::defaultfloat << "\n";
    if (length.contains("private_prefill")) out << private_prefill_line(length["private_prefill"]);
  }
  out << std::flush;
}

}  // namespace parties
