// Flags of the decode benchmark, shared by `mpcache party --job decode-bench` and the launcher
// `mpcache bench-decode`.
#pragma once

#include "kvcache/registry/policy_registry.hpp"
#include "parties/policy_flags.hpp"
#include "model/model_shapes.hpp"
#include "parties/cli_options.hpp"
#include "parties/decode_bench_job.hpp"

#include <CLI/CLI.hpp>

namespace parties {

inline constexpr const char* kNonlinearHelp =
    "how comparisons (max, argmax, ReLU, GeLU, normalisation, top-k) are computed: boolean (adder circuit) or fss "
    "(function secret sharing: 1 round per comparison in 2pc, 2 in 3pc with P2 dealing the keys; more dealer bytes)";

// --nonlinear: the session's comparison method.
inline void add_nonlinear_flag(CLI::App& cmd, protocols::Comparisons& comparisons) {
  cmd.add_option_function<std::string>(
         "--nonlinear", [&comparisons](const std::string& name) { comparisons = protocols::parse_comparisons(name); },
         kNonlinearHelp)
      ->check(CLI::IsMember({"boolean", "fss"}))
      ->default_str("boolean");
}

inline void add_decode_bench_flags(CLI::App& cmd, DecodeBenchOptions& o) {
  add_nonlinear_flag(cmd, o.comparisons);
  cmd.add_option("--shape", o.shape, "decode-bench: model shape with seeded random weights (unless --model)")
      ->check(CLI::IsMember(model::shape_names()))
      ->capture_default_str();
  cmd.add_option("--weights-seed", o.weights_seed, "decode-bench: seed of the random weights (P0)")->capture_default_str();
  cmd.add_option("--cache-lengths", o.cache_lengths, "decode-bench: cache lengths n to measure")
      ->delimiter(',')
      ->check(Range(1, 1 << 20))
      ->capture_default_str();
  cmd.add_option("--steps", o.steps, "decode-bench: timed decode steps per cache length (median reported)")
      ->check(Range(1, 1000))
      ->capture_default_str();
  cmd.add_option("--text", o.text_file, "decode-bench: public text whose plaintext prefill fills the cache")
      ->check(CLI::ExistingFile)
      ->capture_default_str();
  cmd.add_option("--policies", o.policies,
                 "decode-bench: cache policies measured at every n (baselines get MPCache's attending-token count)")
      ->delimiter(',')
      ->check(CLI::IsMember(bench_policy_names()))
      ->capture_default_str();
  cmd.add_option_function<std::string>(
         "--prefill", [&o](const std::string& source) { o.private_prefill = source == "private"; },
         "decode-bench: where the cache comes from: plaintext (P0's plaintext prefill, shared; any n) or private (the "
         "prompt pass and the policy's prompt-time work on shares, costs by phase; policies full, streamingllm, quest, "
         "mpcache*; n up to about 1024 on a 24 GiB machine)")
      ->check(CLI::IsMember({"plaintext", "private"}))
      ->default_str("plaintext");
  add_policy_flags(cmd, o.policy_config);
  cmd.add_option("--tokenizer", o.tokenizer_dir, "decode-bench: tokenizer folder for a random shape")
      ->check(CLI::ExistingDirectory)
      ->capture_default_str();
}

}  // namespace parties
