#include "parties/inference_job.hpp"

#include "kvcache/registry/policy_registry.hpp"
#include "model/config.hpp"
#include "model/generation.hpp"
#include "model/gumbel_sampling.hpp"
#include "model/secure/secure_transformer.hpp"
#include "model/secure/session_config.hpp"
#include "model/tokenizer.hpp"
#include "model/weights.hpp"
#include "parties/fault_injection.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>

namespace parties {

namespace {

constexpr int kOwnerOfWeights = 0;
constexpr int kUser = 1;

using Clock = std::chrono::steady_clock;

// Snapshot of a party's counters; the difference of two snapshots is one step's figures.
struct Snapshot {
  Clock::time_point time;
  std::uint64_t online_sent, offline_sent, rounds;

  static Snapshot take(const net::Stats& stats) {
    const net::ProfileFigures traffic = net::traffic_totals(stats);
    return {Clock::now(), traffic.online_bytes_sent, traffic.offline_bytes_sent, traffic.rounds};
  }
  StepFigures since(const Snapshot& before) const {
    return {std::chrono::duration<double>(time - before.time).count(), online_sent - before.online_sent,
            offline_sent - before.offline_sent, rounds - before.rounds};
  }
};

// The prompt length is public (it fixes every shape); P1 announces it to the other parties.
int agree_prompt_length(protocols::Protocol& proto, int local_length) {
  net::Mesh& mesh = proto.mesh();
  net::PhaseScope phase(mesh.stats(), "setup");
  if (mesh.self() == kUser) {
    std::uint32_t value = static_cast<std::uint32_t>(local_length);
    std::vector<std::uint8_t> bytes(sizeof value);
    std::memcpy(bytes.data(), &value, sizeof value);
    for (int peer = 0; peer < mesh.size(); ++peer)
      if (peer != kUser) mesh.send(peer, bytes);
    return local_length;
  }
  const net::Bytes bytes = mesh.recv(kUser);
  if (bytes.size() != sizeof(std::uint32_t)) throw std::runtime_error("malformed prompt length from party 1");
  std::uint32_t value = 0;
  std::memcpy(&value, bytes.data(), sizeof value);
  return static_cast<int>(value);
}

std::vector<int> user_prompt_tokens(const InferenceJobOptions& o, const model::Tokenizer& tokenizer,
                                    const model::ModelConfig& config) {
  std::vector<int> prompt = tokenizer.encode(o.prompt);
  if (prompt.empty()) throw std::invalid_argument("the prompt is empty");
  model::check_fits_context(static_cast<int>(prompt.size()), o.new_tokens, config.max_positions);
  return prompt;
}

}  // namespace

void read_user_prompt(InferenceJobOptions& o) {
  if (o.prompt_file.empty()) {
    if (o.prompt.empty())
      throw std::invalid_argument("P1 needs the user's prompt: --prompt-file PATH ('-' reads standard input), or "
                                  "--prompt TEXT (visible to every local user in ps)");
    return;
  }
  std::ifstream file;
  if (o.prompt_file != "-") {
    file.open(o.prompt_file, std::ios::binary);
    if (!file) throw std::invalid_argument("cannot read the prompt file " + o.prompt_file + ": " + std::strerror(errno));
  }
  std::istream& in = o.prompt_file == "-" ? std::cin : file;
  o.prompt.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  if (in.bad()) throw std::invalid_argument("error reading the prompt from " + o.prompt_file);
  if (!o.prompt.empty() && o.prompt.back() == '\n') o.prompt.pop_back();
  if (!o.prompt.empty() && o.prompt.back() == '\r') o.prompt.pop_back();
}

void check_user_prompt(const InferenceJobOptions& o) {
  const auto config = model::ModelConfig::load(std::filesystem::path(o.model_dir) / "config.json");
  user_prompt_tokens(o, model::Tokenizer::load(o.model_dir), config);
}

nlohmann::json StepFigures::to_json() const {
  return {{"seconds", seconds}, {"online_bytes_sent", online_bytes_sent},
          {"offline_bytes_sent", offline_bytes_sent}, {"rounds", rounds}};
}

nlohmann::json InferenceJobResult::to_json() const {
  nlohmann::json steps = nlohmann::json::array();
  for (const auto& t : tokens) steps.push_back(t.to_json());
  nlohmann::json j = {{"prompt_length", prompt_length}, {"weights", weights.to_json()},
                      {"prefill", prefill.to_json()}, {"tokens", steps}};
  if (!generated.empty()) {
    j["generated"] = generated;
    j["text"] = text;
  }
  return j;
}

std::vector<std::string> private_inference_policy_names() {
  return kvcache::secure_policy_names(kvcache::SecurePrefill::OnShares, false);
}

std::string inference_session_config(const InferenceJobOptions& o) {
  const auto config = model::ModelConfig::load(std::filesystem::path(o.model_dir) / "config.json");
  const auto names = private_inference_policy_names();
  if (std::find(names.begin(), names.end(), o.policy) == names.end()) {
    std::string possible;
    for (const auto& n : names) possible += (possible.empty() ? "" : ", ") + n;
    throw std::invalid_argument("--policy " + o.policy + " cannot run in private inference (possible: " + possible + ")");
  }
  kvcache::validate(o.policy_config);
  return model::secure::secure_session_config(config) + " new-tokens " + std::to_string(o.new_tokens) +
         " temperature " + std::to_string(o.temperature) + " policy " + o.policy + " " + kvcache::describe(o.policy_config) +
         " nonlinear " + protocols::to_string(o.comparisons);
}

InferenceJobResult run_inference_job(protocols::Session& session, const InferenceJobOptions& o) {
  protocols::Protocol& proto = session.protocol();
  if (o.new_tokens < 1) throw std::invalid_argument("--max-new-tokens must be at least 1");
  if (o.temperature != 0) model::check_sampling_temperature(o.temperature);
  const int self = proto.mesh().self();
  const auto config = model::ModelConfig::load(std::filesystem::path(o.model_dir) / "config.json");
  std::optional<model::TransformerWeights> weights;
  if (self == kOwnerOfWeights) weights = model::load_weights(o.model_dir);
  std::optional<model::Tokenizer> tokenizer;
  std::vector<int> prompt;
  if (self == kUser) {
    tokenizer = model::Tokenizer::load(o.model_dir);
    prompt = user_prompt_tokens(o, *tokenizer, config);
  }
  InferenceJobResult result;
  reach_fault_point(FaultPoint::setup);
  result.prompt_length = agree_prompt_length(proto, static_cast<int>(prompt.size()));
  const net::Stats& stats = proto.mesh().stats();

  Snapshot mark = Snapshot::take(stats);
  model::secure::SecureTransformer engine(session, config, weights ? &*weights : nullptr);
  Snapshot now = Snapshot::take(stats);
  result.weights = now.since(mark);
  spdlog::info("party {}: weights shared and masked in {:.2f} s", self, result.weights.seconds);

  protocols::ops::SecureOps policy_ops(session);
  const auto policy = kvcache::make_secure_policy(o.policy, policy_ops, o.policy_config);
  engine.set_cache_policy(policy.get());

  std::optional<model::GumbelNoise> noise;
  if (self == kUser && o.temperature > 0)
    noise.emplace(o.sampling_seed ? model::GumbelNoise::seed_from(*o.sampling_seed) : mpc::random_seed());
  const auto choose = [&](const protocols::Share& logits) {
    if (o.temperature == 0) return engine.greedy_token(logits);
    const Eigen::RowVectorXd drawn = noise ? noise->next(config.vocab_size) : Eigen::RowVectorXd();
    return engine.sampled_token(logits, o.temperature, noise ? &drawn : nullptr);
  };

  mark = now;
  reach_fault_point(FaultPoint::prefill);
  protocols::Share logits = engine.prefill(prompt, result.prompt_length);
  model::secure::NextToken next;
  {
    net::PhaseScope phase(proto.mesh().stats(), model::secure::kPrefillPhase);
    next = choose(logits);
  }
  now = Snapshot::take(stats);
  result.prefill = now.since(mark);
  if (next.token) result.generated.push_back(*next.token);
  spdlog::info("party {}: prefill of {} tokens in {:.2f} s", self, result.prompt_length, result.prefill.seconds);

  for (int i = 1; i < o.new_tokens; ++i) {
    mark = now;
    reach_fault_point(FaultPoint::decode, i);
    logits = engine.decode(next.one_hot);
    {
      net::PhaseScope phase(proto.mesh().stats(), model::secure::kDecodePhase);
      next = choose(logits);
    }
    now = Snapshot::take(stats);
    result.tokens.push_back(now.since(mark));
    if (next.token) result.generated.push_back(*next.token);
    spdlog::info("party {}: token {}/{} in {:.3f} s", self, i + 1, o.new_tokens, result.tokens.back().seconds);
  }
  if (tokenizer) result.text = tokenizer->decode(result.generated);
  return result;
}

}  // namespace parties
