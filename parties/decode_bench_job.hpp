// The long-context decode benchmark, run by each party: single decode steps of the secure engine
// from a secret-shared KV cache of n tokens, for several n, with per-step time, traffic, rounds
// and the per-operator-class profile.
//
// Where the cache comes from (`private_prefill`):
//  - plaintext (the default; the only way to n in the thousands): the model owner (P0) runs a
//    plaintext prefill of public benchmark text with its weights, applies the policy's prompt-time
//    work in plaintext and secret-shares the resulting keys and values (and boxes or scores).
//  - private: P1 inputs the same text as its secret prompt and the parties run the whole prompt
//    pass on shares; the policy's prompt-time work (MPCache's static eviction with the votes of
//    the prompt attention, cluster or page boxes over the kept rows) runs on shares as well, and
//    its cost is reported by phase (forward pass, eviction, boxes). The prompt pass's softmax over
//    n x n scores per head dominates: practical up to about a thousand tokens.
// Everything after that (the decode steps measured) is the real secure engine. Every result
// carries the statement of which one ran in its "cache_source" field and "prefill" per row.
#pragma once

#include "kvcache/policy_config.hpp"
#include "net/operator_profile.hpp"
#include "protocols/protocol.hpp"
#include "protocols/session.hpp"

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

namespace parties {

struct DecodeBenchOptions {
  std::string model_dir;              // a real model; empty: seeded random weights of `shape`
  std::string shape = "gpt2-small";   // see model/model_shapes.hpp
  std::uint64_t weights_seed = 1;     // P0 only (random weights)
  std::vector<int> cache_lengths = {256, 512, 1024, 2048, 4096};
  int steps = 5;                      // timed decode steps per cache length
  std::string text_file = "bench/data/kjv_ruth_ecclesiastes_jonah.txt";
  std::string tokenizer_dir = "models/gpt2-tokenizer";  // for a random shape (a real model uses its own)
  // Cache policies to measure at every n (see bench_policy_names()); the baselines get the same
  // number of attending tokens as MPCache at that n (bench_budget_tokens()).
  std::vector<std::string> policies = {"full"};
  kvcache::PolicyConfig policy_config;
  // How the non-linear operators compare (--nonlinear): the session is opened with it.
  protocols::Comparisons comparisons = protocols::Comparisons::boolean;
  bool private_prefill = false;  // --prefill private: the cache comes from a prefill on shares
};

// full, streamingllm, h2o, tova, snapkv, quest, mpcache, and the MPCache ablations mpcache-flat
// (no hierarchy: level-1 ratio 1) and mpcache-unshared (every layer selects: share interval 1).
std::vector<std::string> bench_policy_names();
// The token budget of the baselines at cache length n: the rows MPCache attends at a decode step
// right after its static eviction (same count for every policy, so only the way rows are chosen
// differs).
int bench_budget_tokens(const kvcache::PolicyConfig& config, int n);
// The policies a private prefill supports: those whose prompt-time work has a secure form. H2O,
// TOVA and SnapKV cut the prompt to their budget per key/value head, which the secure engine
// cannot do yet (static eviction keeps the same rows in every head).
std::vector<std::string> private_prefill_policy_names();

// One measured span as seen by one party: a timed decode step (embedding to the chosen token), or
// a private prefill.
struct DecodeStepFigures {
  double seconds = 0;
  std::uint64_t online_bytes_sent = 0, offline_bytes_sent = 0, rounds = 0;
  double wait_seconds = 0;          // blocked in the network
  double offline_wait_seconds = 0;  // of which waiting for the 2PC dealer's stream
  // Wire bytes (TLS records included) this party sent to each peer, online and offline (dealer).
  std::map<int, std::uint64_t> online_wire_bytes_to, offline_wire_bytes_to;
  std::map<std::string, net::ProfileFigures> profile;
  nlohmann::json to_json() const;
};

struct CacheLengthResult {
  int cache_length = 0;
  std::string policy = "full";
  int cached_rows = 0;     // rows left after the prompt-time eviction of the policy
  int budget_tokens = 0;   // the baselines' budget at this n
  std::vector<DecodeStepFigures> steps;
  std::optional<DecodeStepFigures> private_prefill;  // the prompt pass on shares, when it ran
  std::vector<double> plaintext_step_seconds;  // P0: the plaintext engine on the same cache
  std::vector<int> plaintext_tokens;           // P0: greedy tokens of the plaintext engine
  std::vector<int> secure_tokens;              // P1: greedy tokens of the secure engine
  nlohmann::json to_json() const;
};

// The public description all parties must agree on (shape, lengths, steps, text).
std::string decode_bench_session_config(const DecodeBenchOptions& options);

// Runs the benchmark as this party in the open `session` (its comparison method is
// options.comparisons); returns the JSON result (see CacheLengthResult, plus the
// model shape and the cache-source statement). `on_finished` gets the result so far after each
// (policy, n), so that a later failure does not lose the finished part. Progress lines go to
// stderr at any log level.
nlohmann::json run_decode_bench_job(protocols::Session& session, const DecodeBenchOptions& options,
                                    const std::function<void(const nlohmann::json&)>& on_finished = {});

// This party's figures per (policy, n) as a table: what a standalone party prints at the end.
void print_decode_bench_summary(const nlohmann::json& result, int self, std::ostream& out);

}  // namespace parties
