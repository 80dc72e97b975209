#!/usr/bin/env bash
# Secret randomness (shares, masks, seeds, correlated randomness) must come from libsodium via
# mpc/prg.hpp. This check fails if production code uses a non-cryptographic generator anywhere
# except in the allow-listed places below, each of which draws only public, non-secret values.
# Usage: check_no_insecure_rng.sh SOURCE_DIR
set -uo pipefail
source_dir="$1"
cd "$source_dir" || { echo "FAIL: no source dir $source_dir"; exit 1; }

pattern='std::rand\b|(^|[^_[:alnum:]:.>])rand[[:space:]]*\(|srand|rand_r|[^_[:alnum:]]drand48|lrand48|mt19937|random_device|minstd_rand|default_random_engine|ranlux|knuth_b|(^|[^_[:alnum:]])random[[:space:]]*\(\)|<random>|_distribution[[:space:]]*<'

# file:regex of an allowed line, with the reason.
allowed=(
  # Synthetic weights for tests and benchmarks from a public seed: nothing secret is derived.
  'model/weights.cpp:#include <random>'
  'model/weights.cpp:std::mt19937_64 rng\(seed\);'
  # Plaintext (non-private) sampling with a user-given seed, reproducible by design; the private
  # engine samples with Gumbel noise from mpc::Prg instead.
  'model/sampling.hpp:#include <random>'
  'model/sampling.hpp:std::mt19937_64 rng_;'
  # The random base port of locally launched parties, so that runs can go side by side; ports
  # are public. (The port picker lives in net/listening_ports.cpp; older trees had it in
  # local_parties.cpp or demo_command.cpp.)
  'net/listening_ports.cpp:#include <random>'
  'net/listening_ports.cpp:std::random_device rd;'
  'net/listening_ports.cpp:std::uniform_int_distribution<int> first_port'
  'parties/local_parties.cpp:#include <random>'
  'parties/local_parties.cpp:std::random_device rd;'
  'parties/demo_command.cpp:#include <random>'
  'parties/demo_command.cpp:std::random_device rd;'
  # Plaintext policy evaluation: public workloads and corpus samples from a fixed seed.
  'eval/evaluation.cpp:#include <random>'
  'eval/evaluation.cpp:std::mt19937_64 rng\(o\.seed\);'
  'eval/text_corpus.cpp:#include <random>'
  'eval/text_corpus.cpp:std::mt19937_64 rng\(seed\);'
)

is_allowed() {
  local file="$1" line="$2" entry
  for entry in "${allowed[@]}"; do
    [[ "$file" == "${entry%%:*}" ]] && grep -Eq -- "${entry#*:}" <<<"$line" && return 0
  done
  return 1
}

dirs=()
for d in mpc net protocols model kvcache parties eval; do [[ -d "$d" ]] && dirs+=("$d"); done
(( ${#dirs[@]} >= 5 )) || { echo "FAIL: $source_dir does not look like the source tree"; exit 1; }

violations=0
while IFS= read -r hit; do
  file="${hit%%:*}"; rest="${hit#*:}"; number="${rest%%:*}"; line="${rest#*:}"
  if ! is_allowed "$file" "$line"; then
    echo "insecure random number generator at $file:$number: $line"
    violations=$((violations + 1))
  fi
done < <(grep -rnE --include='*.cpp' --include='*.hpp' --include='*.h' -- "$pattern" "${dirs[@]}")

if (( violations > 0 )); then
  echo "FAIL: $violations use(s) of a non-cryptographic generator; use mpc::Prg / mpc::random_seed for anything secret"
  exit 1
fi
echo "PASS: no non-cryptographic generator outside the allow-list (${dirs[*]})"
