#!/usr/bin/env bash
# End-to-end checks of the mpcache executable as a user runs it: real processes over TLS on loopback.
# Usage: cli_test.sh PATH_TO_MPCACHE CASE
set -uo pipefail
exe="$1"
case_name="$2"
source_dir="$(cd "$(dirname "$0")/../.." && pwd)"
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$work"' EXIT

fail() { echo "FAIL: $*"; exit 1; }

# Runs a command, expects a non-zero exit and a message matching a pattern.
expect_error() {
  local pattern="$1"; shift
  local out rc
  out=$("$@" 2>&1); rc=$?
  [[ $rc -ne 0 ]] || fail "expected failure of: $* (output: $out)"
  grep -Eq -- "$pattern" <<<"$out" || fail "expected /$pattern/ in output of $(head -c 300 <<<"$*"): $out"
  echo "ok: $(head -c 300 <<<"$*") -> exit $rc: $(head -c 200 <<<"$out" | tr '\n' ' ')"
}

# Sets base_port to the first of three consecutive loopback ports that this script holds until it
# ends. They lie below the kernel's ephemeral range, so no outgoing connection can take them, and
# each has a lock file shared with the C++ test harness (tests/support/reserved_ports.hpp), locked
# here with flock, so no other test listens on them; a port something already listens on is skipped.
port_locks="${TMPDIR:-/tmp}/mpcache-test-ports"
read -r ephemeral_low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || ephemeral_low=32768
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
lock_port() {
  local fd
  exec {fd}>"$port_locks/$1.lock" || return 1
  flock -n "$fd" && ! port_in_use "$1" && return 0
  exec {fd}>&-
  return 1
}
reserve_ports() {
  mkdir -p "$port_locks"
  local attempt
  for attempt in $(seq 1000); do
    base_port=$((10000 + (RANDOM * 32768 + RANDOM) % (ephemeral_low - 10000 - 3)))
    lock_port "$base_port" && lock_port $((base_port + 1)) && lock_port $((base_port + 2)) && return 0
  done
  fail "no three free loopback ports below $ephemeral_low"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Waits until process $1 has ended, for at most $2 milliseconds; returns 1 if it is still running.
wait_until_gone() {
  local pid="$1" deadline=$(( $(now_ms) + $2 ))
  while kill -0 "$pid" 2>/dev/null; do
    (( $(now_ms) < deadline )) || return 1
    sleep 0.05
  done
}

# Waits until every file given after the first two arguments holds a line with pattern $1, for
# at most $2 milliseconds; returns 1 on timeout.
wait_for_line() {
  local pattern="$1" deadline=$(( $(now_ms) + $2 )) f
  shift 2
  for f in "$@"; do
    until grep -q -- "$pattern" "$f" 2>/dev/null; do
      (( $(now_ms) < deadline )) || return 1
      sleep 0.05
    done
  done
}

# Sets `model` to the project's trained model, or ends the case as skipped when it is absent.
require_kjv_model() {
  model="$source_dir/models/kjv-gpt2"
  [[ -f "$model/model.safetensors" ]] || { echo "SKIP: $model is absent"; exit 0; }
}

# Starts the three parties of the generate job in the background (logs in $work/p<id>.log, pids in
# the array `pids`). Arguments: protocol, then extra flags for every party; FAULTY_ID and FAULT
# (PHASE:KIND) add --inject-fault to one party, LOG_LEVEL sets the global --log-level.
start_generate_parties() {
  local protocol="$1"; shift
  local id extra
  for id in 0 1 2; do
    extra=()
    [[ $id == 1 ]] && extra+=(--prompt "$PROMPT")
    [[ -n "${FAULTY_ID:-}" && $id == "$FAULTY_ID" ]] && extra+=(--inject-fault "$FAULT")
    "$exe" ${LOG_LEVEL:+--log-level "$LOG_LEVEL"} party --id "$id" --parties "$work/d/parties.json" \
      --protocol "$protocol" --job generate "$@" "${extra[@]}" >"$work/p$id.log" 2>&1 &
    pids[$id]=$!
  done
}

# Phases the surviving parties can honestly be in when a peer fails at the given injection point.
# A fault at setup strikes before the prompt length is shared; a survivor that needs nothing from
# the lost peer to share the weights (3PC P1, for one) first notices it in the prefill. In 2PC,
# traffic with the dealer is accounted in the "offline" phase; the dealer runs ahead of the parties
# it serves and may have finished its stream, in which case it notices the loss in the final
# "teardown" round in which all parties confirm completion.
phases_after_fault() {
  case "$1" in
    setup) echo "setup|weights|prefill|offline|teardown" ;;
    prefill) echo "prefill|offline|teardown" ;;
    decode) echo "decode|offline|teardown" ;;
  esac
}

case "$case_name" in
  demo)
    out=$("$exe" demo --job matmul --rows 2 --inner 64 --cols 32 --repeats 2 2>&1) || fail "demo failed: $out"
    echo "$out"
    grep -q "result matches plaintext" <<<"$out" || fail "demo did not confirm the product"
    # Rounds per product: 2PC matmul 1 + truncation 1 + reveal 1; 3PC matmul 1 + truncation 2 + reveal 1.
    grep -Eq "^2pc +[0-9.]+ +[0-9]+ +[0-9]+ +3 " <<<"$out" || fail "2pc row should report 3 rounds per product"
    grep -Eq "^3pc +[0-9.]+ +[0-9]+ +0 +4 " <<<"$out" || fail "3pc row should report 4 rounds and no dealer bytes"
    ;;
  demo-generate)
    # Private inference on the project's model, both backends, against the plaintext engine.
    model="$source_dir/models/kjv-gpt2"
    [[ -f "$model/model.safetensors" ]] || { echo "SKIP: $model is absent"; exit 0; }
    out=$("$exe" demo --model "$model" --prompt "In the beginning God created" --max-new-tokens 3 2>&1) \
      || fail "generate demo failed: $out"
    echo "$out"
    [[ $(grep -c "3/3 tokens identical to the plaintext engine" <<<"$out") == 2 ]] || fail "secure tokens differ from plaintext"
    grep -Eq "^token 3 +'.*' +[0-9.]+ +[0-9]+ +[0-9]+ +[0-9]+" <<<"$out" || fail "per-token table missing"
    ;;
  demo-mpcache)
    # Private inference with MPCache: static eviction on the private prefill, secret cluster
    # selection with cross-layer sharing at every step; the plaintext check runs the same policy.
    model="$source_dir/models/kjv-gpt2"
    [[ -f "$model/model.safetensors" ]] || { echo "SKIP: $model is absent"; exit 0; }
    prompt="And the LORD spake unto Moses, saying, Speak unto the children of Israel, that they bring me an offering: of every man that giveth it willingly with his heart ye shall take my offering."
    out=$("$exe" demo --protocol 2pc --model "$model" --prompt "$prompt" --max-new-tokens 3 --policy mpcache \
          --mpcache-cluster-size1 8 --mpcache-cluster-size2 4 --mpcache-static-ratio 0.6 2>&1) \
      || fail "mpcache demo failed: $out"
    echo "$out"
    grep -q "KV-cache policy mpcache" <<<"$out" || fail "the demo must name the policy"
    grep -q "3/3 tokens identical to the plaintext engine" <<<"$out" || fail "secure MPCache tokens differ from plaintext MPCache"
    expect_error "policy" "$exe" demo --policy h2o
    ;;
  bench-decode)
    # The long-context benchmark end to end on a tiny shape: both backends, two cache lengths, the
    # full cache and MPCache (small clusters, so the launcher must forward the policy flags).
    out=$("$exe" bench-decode --shape tiny --cache-lengths 32,80 --steps 2 --out "$work/b" \
          --policies full,mpcache --mpcache-cluster-size1 8 --mpcache-cluster-size2 4 \
          --text "$source_dir/bench/data/kjv_ruth_ecclesiastes_jonah.txt" \
          --tokenizer "$source_dir/models/gpt2-tokenizer" 2>&1) || fail "bench-decode failed: $out"
    echo "$out"
    grep -q "plaintext prefill of public benchmark text" <<<"$out" || fail "the cache source must be stated"
    for f in decode_steps.csv decode_steps.json decode_steps.md decode_profile.csv; do
      [[ -s "$work/b/$f" ]] || fail "bench-decode did not write $f"
    done
    [[ $(wc -l <"$work/b/decode_steps.csv") == 9 ]] || fail "expected 8 result rows: $(cat "$work/b/decode_steps.csv")"
    # Secure greedy tokens equal the plaintext engine's (same policy) on the same cache (2 of 2 steps).
    [[ $(grep -c ',2$' "$work/b/decode_steps.csv") == 8 ]] || fail "secure tokens differ: $(cat "$work/b/decode_steps.csv")"
    grep -q "attention.softmax" "$work/b/decode_profile.csv" || fail "profile lacks the softmax class"
    # Every row reports each party's peak resident memory (P0, P1, dealer or P2), in bytes.
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i
                       if (!col["peak_rss_bytes_p0"] || !col["peak_rss_bytes_p1"] || !col["peak_rss_bytes_p2"]) exit 1; next }
             !($col["peak_rss_bytes_p0"] > 0 && $col["peak_rss_bytes_p1"] > 0 && $col["peak_rss_bytes_p2"] > 0) { exit 1 }' \
        "$work/b/decode_steps.csv" || fail "peak memory per party missing: $(cat "$work/b/decode_steps.csv")"
    grep -q '"peak_rss_bytes_p2"' "$work/b/decode_steps.json" || fail "decode_steps.json lacks the peak memory"
    grep -q "peak MB P0/P1/P2" "$work/b/decode_steps.md" || fail "decode_steps.md lacks the peak memory"
    # MPCache at n = 80 keeps 24 rows (6 clusters of 4): it selects, so its classes are profiled.
    grep -q "mpcache,80,selection.topk" "$work/b/decode_profile.csv" || fail "MPCache did not select at n = 80"
    expect_error "shape" "$exe" bench-decode --shape gpt5
    expect_error "cache-lengths" "$exe" bench-decode --cache-lengths 0
    expect_error "policies" "$exe" bench-decode --policies lru
    touch "$work/a-file"
    expect_error "cannot make the results folder" "$exe" bench-decode --shape tiny --cache-lengths 32 --out "$work/a-file"
    grep -q "necessary_bytes_p1" "$work/b/decode_steps.csv" || fail "decode_steps.csv lacks the necessary bytes"
    ;;
  bench-decode-private-prefill)
    # The cache from a private prefill: the prompt pass and MPCache's static eviction and boxes on
    # shares, both backends; the rows say which prefill ran, give its costs by phase, and the secure
    # tokens still equal the plaintext engine's. A policy without a secure prompt-time form is refused.
    out=$("$exe" bench-decode --shape tiny --cache-lengths 80 --steps 2 --out "$work/p" --prefill private \
          --policies full,mpcache --mpcache-cluster-size1 8 --mpcache-cluster-size2 4 \
          --text "$source_dir/bench/data/kjv_ruth_ecclesiastes_jonah.txt" \
          --tokenizer "$source_dir/models/gpt2-tokenizer" 2>&1) || fail "bench-decode failed: $out"
    echo "$out"
    grep -q "comes from a private prefill" <<<"$out" || fail "the cache source must be stated"
    grep -q "private prefill of 80 tokens (24 kept)" <<<"$out" || fail "MPCache's private static eviction must keep 24 rows"
    [[ $(grep -c ',2$' "$work/p/decode_steps.csv") == 4 ]] || fail "secure tokens differ: $(cat "$work/p/decode_steps.csv")"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
             $col["prefill"] != "private" || !($col["private_prefill_seconds"] > 0) || !($col["private_prefill_forward_bytes"] > 0) { exit 1 }
             $col["policy"] == "mpcache" && !($col["private_prefill_eviction_rounds"] > 0 && $col["private_prefill_boxes_rounds"] > 0) { exit 1 }
             $col["policy"] == "full" && $col["private_prefill_eviction_rounds"] != 0 { exit 1 }' \
        "$work/p/decode_steps.csv" || fail "private prefill columns wrong: $(cat "$work/p/decode_steps.csv")"
    grep -q "^Private prefill" "$work/p/decode_steps.md" || fail "decode_steps.md lacks the prefill table"
    expect_error "does not support the policy 'h2o'" "$exe" bench-decode --shape tiny --cache-lengths 32 --prefill private \
        --policies h2o --out "$work/p2" --text "$source_dir/bench/data/kjv_ruth_ecclesiastes_jonah.txt" \
        --tokenizer "$source_dir/models/gpt2-tokenizer"
    [[ ! -e "$work/p2" ]] || fail "a refused run must not start (it made its results folder)"
    ;;
  network-projection)
    # The same decode step on loopback and on an emulated link whose round trips dominate (so that
    # compute-time noise on a loaded machine stays well inside the bar): the
    # measured time must be within 20% of the projection from the loopback run (README defines it).
    out=$("$exe" bench-decode --shape tiny --protocol 2pc --cache-lengths 32 --steps 2 --out "$work/b" \
          --network loopback 1gbit,20ms --project wan --policies full \
          --text "$source_dir/bench/data/kjv_ruth_ecclesiastes_jonah.txt" \
          --tokenizer "$source_dir/models/gpt2-tokenizer" 2>&1) || fail "bench-decode failed: $out"
    echo "$out"
    grep -q "network 1gbit/20ms (1 Gbit/s, 20 ms RTT)" <<<"$out" || fail "the run does not name its network"
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
             { step = $col["step_seconds"] == "" ? "-" : $col["step_seconds"]
               rows[$col["network"]] = $col["measured"] " " step " " $col["projected_seconds"] }
             END {
               split(rows["1gbit/20ms"], shaped, " "); split(rows["wan"], wan, " "); split(rows["loopback"], loop, " ")
               if (shaped[1] != "true" || wan[1] != "false" || loop[1] != "true") { print "FAIL: rows missing"; exit 1 }
               ratio = shaped[2] / shaped[3]
               printf "shaped %.3f s, projected %.3f s (ratio %.3f); loopback %.3f s; wan projected %.3f s\n",
                      shaped[2], shaped[3], ratio, loop[2], wan[3]
               if (ratio < 0.8 || ratio > 1.2) { print "FAIL: shaped time not within 20% of the projection"; exit 1 }
               if (shaped[2] < 2) { print "FAIL: 20 ms round trips must cost > 2 s per step"; exit 1 }
             }' "$work/b/decode_steps.csv" || fail "$(cat "$work/b/decode_steps.csv")"
    expect_error "network" "$exe" bench-decode --network 3g
    expect_error "project" "$exe" bench-decode --network wan --project lan
    expect_error "unit must be" "$exe" party --id 0 --parties /dev/null --network 1gb,2ms
    ;;
  keygen)
    "$exe" keygen --parties 3 --out "$work/d" --base-port 31000 || fail "keygen failed"
    for f in ca.crt party0.crt party1.crt party2.crt party0.key parties.json; do
      [[ -s "$work/d/$f" ]] || fail "keygen did not write $f"
    done
    [[ $(stat -c %a "$work/d/party0.key") == 600 ]] || fail "private keys must be 0600"
    openssl verify -CAfile "$work/d/ca.crt" "$work/d/party1.crt" || fail "certificate does not verify against the CA"
    subject=$(openssl x509 -in "$work/d/party1.crt" -noout -subject)
    grep -q "mpcache-party-1" <<<"$subject" || fail "CN must name the party"
    ;;
  bad-flags)
    expect_error "protocol" "$exe" party --id 0 --parties /dev/null --protocol 4pc
    expect_error "parties" "$exe" party --id 0 --parties "$work/nope.json"
    expect_error "id" "$exe" party --id 7 --parties /dev/null
    expect_error "rows" "$exe" demo --rows 0
    expect_error "job" "$exe" demo --job train
    echo '{"ca": "ca.crt", "parties": [' > "$work/broken.json"
    expect_error "broken.json" "$exe" party --id 0 --parties "$work/broken.json"
    reserve_ports
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$base_port" >/dev/null || fail "keygen failed"
    expect_error "config.json" "$exe" party --id 0 --parties "$work/d/parties.json" --model "$work"
    expect_error "subcommand|required" "$exe"
    # Invalid cache budgets and ratios, and prompts longer than the model's context.
    model="$source_dir/models/kjv-gpt2"
    if [[ -f "$model/model.safetensors" ]]; then
      expect_error "ratio|budget" "$exe" generate --model "$model" --prompt "In the beginning" --policy h2o --kv-budget-ratio 1.5
      expect_error "ratio|budget" "$exe" generate --model "$model" --prompt "In the beginning" --policy h2o --kv-budget-ratio 0
      expect_error "ratio" "$exe" generate --model "$model" --prompt "In the beginning" --policy mpcache --mpcache-dyn-ratio -0.2
      long_prompt=$(for i in $(seq 1 400); do printf 'And God said, Let there be light. '; done)
      expect_error "context" "$exe" generate --model "$model" --prompt "$long_prompt" --max-new-tokens 4
      reserve_ports
      "$exe" keygen --parties 3 --out "$work/long" --base-port "$base_port" >/dev/null || fail "keygen failed"
      # P1 refuses before connecting: the public prompt length would exceed the context.
      expect_error "context" "$exe" party --id 1 --parties "$work/long/parties.json" --model "$model" \
        --prompt "$long_prompt" --connect-timeout 2
      expect_error "temperature" "$exe" party --id 1 --parties "$work/long/parties.json" --temperature -1
    fi
    ;;
  missing-peer)
    reserve_ports
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$base_port" >/dev/null || fail "keygen failed"
    # The dealer never starts: both parties must give up with a message naming it.
    "$exe" party --job matmul --id 0 --parties "$work/d/parties.json" --connect-timeout 3 >"$work/p0.log" 2>&1 &
    p0=$!
    expect_error "party 2|dealer" "$exe" party --job matmul --id 1 --parties "$work/d/parties.json" --connect-timeout 3
    wait $p0 && fail "P0 should fail without the dealer"
    grep -Eq "party 2|dealer" "$work/p0.log" || fail "P0's error should name the missing peer: $(cat "$work/p0.log")"
    ;;
  peer-killed)
    reserve_ports
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$base_port" >/dev/null || fail "keygen failed"
    args=(--parties "$work/d/parties.json" --job matmul --protocol 3pc --rows 64 --inner 768 --cols 3072 --repeats 1000 --io-timeout 30)
    "$exe" --log-level info party --id 0 "${args[@]}" >"$work/p0.log" 2>&1 & p0=$!
    "$exe" --log-level info party --id 1 "${args[@]}" >"$work/p1.log" 2>&1 & p1=$!
    "$exe" --log-level info party --id 2 "${args[@]}" >"$work/p2.log" 2>&1 & p2=$!
    # Kill P2 once every party is in the products (not after a fixed delay: on a busy machine the
    # mesh may not be ready within it, and the survivors would then report a peer that did not connect).
    wait_for_line "mesh of 3 parties ready" 60000 "$work/p0.log" "$work/p1.log" "$work/p2.log" \
      || fail "the parties did not connect: $(cat "$work"/p*.log)"
    sleep 0.5
    kill -9 $p2
    start=$(date +%s)
    wait $p0; rc0=$?
    wait $p1; rc1=$?
    elapsed=$(( $(date +%s) - start ))
    [[ $rc0 -ne 0 && $rc1 -ne 0 ]] || fail "surviving parties must exit non-zero (got $rc0, $rc1)"
    (( elapsed <= 10 )) || fail "surviving parties took ${elapsed}s to notice the lost peer"
    # Whoever notices first names party 2; the other may see that survivor leave first and name it.
    # (grep reads the files itself: `cat | grep -q` under pipefail fails when grep stops reading early.)
    # The kill is not synchronised with the job: on a busy machine the parties may still be
    # sharing their inputs (phase 'input') when it strikes.
    grep -Eq "(receiving from|sending to) party 2 failed in phase '(input|matmul)'" "$work/p0.log" "$work/p1.log" \
      || fail "no survivor named party 2: $(cat "$work/p0.log" "$work/p1.log")"
    grep -Eq "party [0-2] failed in phase '(input|matmul)'" "$work/p0.log" || fail "P0 must name a peer and the phase"
    grep -Eq "party [0-2] failed in phase '(input|matmul)'" "$work/p1.log" || fail "P1 must name a peer and the phase"
    echo "ok: survivors exited $rc0/$rc1 within ${elapsed}s: $(tail -n1 "$work/p1.log") / $(tail -n1 "$work/p0.log")"
    ;;
  fault-*)
    # fault-PHASE-KIND-PROTOCOL-pID: party ID crashes (exit) or freezes (stall) at PHASE of the
    # generate job; every other party must exit non-zero soon, naming a peer and the phase.
    IFS=- read -r _ phase kind protocol who <<<"$case_name"
    faulty="${who#p}"
    require_kjv_model
    reserve_ports
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$base_port" >/dev/null || fail "keygen failed"
    io_timeout=30; [[ $kind == stall ]] && io_timeout=3
    PROMPT="In the beginning God created" FAULTY_ID="$faulty" FAULT="$phase:$kind" \
      start_generate_parties "$protocol" --model "$model" --max-new-tokens 3 --io-timeout "$io_timeout"
    # The faulty party announces the fault on stderr just before it strikes.
    for (( i = 0; i < 2400; ++i )); do
      grep -q "injected fault" "$work/p$faulty.log" && break
      kill -0 "${pids[$faulty]}" 2>/dev/null || grep -q "injected fault" "$work/p$faulty.log" \
        || fail "party $faulty ended before its fault: $(cat "$work/p$faulty.log")"
      sleep 0.05
    done
    grep -q "injected fault" "$work/p$faulty.log" || fail "the fault never struck"
    struck=$(now_ms)
    # A crash is seen at once (the connection closes); a stall only after the I/O timeout, and up
    # to two of them: a survivor's wait restarts on progress from the other survivor, which keeps
    # sending until its own wait on the stalled party gives up. The 2PC dealer also runs ahead of
    # the parties it serves, which first finish the work its buffered stream covers (seconds on a
    # loaded machine). The limit stays far below the 120 s default, so an ignored
    # --io-timeout still fails here.
    [[ $kind == stall ]] && limit_ms=$(( (2 * io_timeout + 15) * 1000 )) || limit_ms=10000
    phases=$(phases_after_fault "$phase")
    named_faulty=0
    for id in 0 1 2; do
      [[ $id == "$faulty" ]] && continue
      wait_until_gone "${pids[$id]}" $(( struck + limit_ms - $(now_ms) )) \
        || fail "party $id still runs $(( limit_ms / 1000 ))s after party $faulty's $kind at $phase: $(cat "$work/p$id.log")"
      wait "${pids[$id]}"; rc=$?
      [[ $rc -ne 0 ]] || fail "party $id must exit non-zero after losing party $faulty: $(cat "$work/p$id.log")"
      grep -Eq "party [0-2] failed in phase '($phases)'" "$work/p$id.log" \
        || fail "party $id must name a peer and the phase ($phases): $(cat "$work/p$id.log")"
      grep -Eq "(receiving from|sending to|waiting for) party $faulty failed in phase '($phases)'" "$work/p$id.log" \
        && named_faulty=1
      echo "ok: party $id exited $rc after $(( $(now_ms) - struck )) ms: $(grep -m1 "failed in phase" "$work/p$id.log")"
    done
    # Whoever notices first names the faulty party; the other may see that survivor leave first.
    (( named_faulty )) || fail "no survivor named party $faulty"
    if [[ $faulty != 1 ]] && grep -q "^generated:" "$work/p1.log"; then
      fail "P1 printed a result although the run failed: $(cat "$work/p1.log")"
    fi
    if [[ $kind == exit ]]; then
      wait "${pids[$faulty]}"; rc=$?
      [[ $rc == 3 ]] || fail "the crashing party should exit with 3, got $rc"
    else
      kill -0 "${pids[$faulty]}" 2>/dev/null || fail "the stalled party should still be running"
      { kill -9 "${pids[$faulty]}" && wait "${pids[$faulty]}"; } 2>/dev/null
    fi
    ;;
  no-secrets-in-logs)
    # Only P1 (the user) may print the prompt; only P0 (the owner) may print weights.
    require_kjv_model
    PROMPT="Zerubbabel quickened pomegranates beside Jehoshaphat"
    "$exe" generate --model "$model" --prompt "$PROMPT" --max-new-tokens 0 --json "$work/prompt.json" >/dev/null \
      || fail "cannot tokenize the prompt"
    ids=$(python3 -c 'import json,sys; print(*json.load(open(sys.argv[1]))["prompt_tokens"])' "$work/prompt.json")
    # The ids as a sequence, whatever the separators ("[1, 2]", "1 2", "1,2").
    ids_pattern="(^|[^0-9])$(sed 's/ /[^0-9]+/g' <<<"$ids")([^0-9]|$)"
    grep -Eq -- "$ids_pattern" <<<"[${ids// /, }]" || fail "the token-id pattern does not match its own rendering"
    words=$(tr -cs '[:alpha:]' '\n' <<<"$PROMPT" | awk 'length($0) >= 4')
    python3 "$source_dir/tests/privacy/sample_weights.py" "$model/model.safetensors" 20 >"$work/weights.txt" \
      || fail "cannot sample weight values"
    for run in "2pc:" "2pc:trace" "3pc:trace"; do
      protocol="${run%%:*}"; level="${run#*:}"
      reserve_ports
      "$exe" keygen --parties 3 --out "$work/d" --force --base-port "$base_port" >/dev/null || fail "keygen failed"
      LOG_LEVEL="$level" start_generate_parties "$protocol" --model "$model" --max-new-tokens 2 --io-timeout 60
      for id in 0 1 2; do
        wait "${pids[$id]}" || fail "[$run] party $id failed: $(cat "$work/p$id.log")"
      done
      grep -q "^generated:" "$work/p1.log" || fail "[$run] P1 printed no result"
      [[ -z "$level" ]] || grep -q "mesh of 3 parties ready" "$work/p0.log" || fail "[$run] --log-level $level had no effect"
      for id in 0 2; do
        while read -r word; do
          grep -qiF -- "$word" "$work/p$id.log" && fail "[$run] party $id printed the prompt word '$word'"
        done <<<"$words"
        grep -Eq -- "$ids_pattern" "$work/p$id.log" && fail "[$run] party $id printed the prompt's token ids"
      done
      for id in 1 2; do
        grep -qF -f "$work/weights.txt" "$work/p$id.log" \
          && fail "[$run] party $id printed a weight value: $(grep -oF -f "$work/weights.txt" "$work/p$id.log" | head -3)"
      done
      echo "ok: [$protocol, log level ${level:-default}] $(wc -c <"$work/p0.log")/$(wc -c <"$work/p1.log")/$(wc -c <"$work/p2.log") bytes of output checked"
    done
    ;;
  cli-usability)
    # Messages a new user meets: numbers, seeds, help defaults, the dealer's flags, --version.
    expect_error "not an integer" "$exe" generate --model "$source_dir/models/kjv-gpt2" --prompt x --max-new-tokens abc
    expect_error "non-negative integer" "$exe" generate --model "$source_dir/models/kjv-gpt2" --prompt x --seed -1
    expect_error "non-negative integer" "$exe" demo --seed -1
    out=$("$exe" generate --model "$source_dir/models/kjv-gpt2" --prompt x --top-k -3 2>&1) && fail "--top-k -3 accepted"
    grep -q "range 0 to" <<<"$out" || fail "--top-k -3 should name the range: $out"
    (( ${#out} < 200 )) || fail "--top-k -3 message too long: $out"
    dealer_help=$("$exe" dealer --help)
    for flag in --protocol --prompt --prompt-file --sampling-seed; do
      grep -q -- "^ *$flag " <<<"$dealer_help" && fail "dealer --help offers $flag"
    done
    party_help=$("$exe" party --help)
    for shown in "--protocol TEXT:{2pc,3pc}=2pc" "--max-new-tokens INT:INT in \[1 - 100000\]=8" "--io-timeout .*=120" \
                 "--connect-timeout .*=30" "--prompt-file"; do
      grep -Eq -- "$shown" <<<"$party_help" || fail "party --help lacks /$shown/"
    done
    keygen_help=$("$exe" keygen --help)
    for shown in "--host TEXT=127.0.0.1" "--base-port .*=47000" "--days .*=365" "--force"; do
      grep -Eq -- "$shown" <<<"$keygen_help" || fail "keygen --help lacks /$shown/"
    done
    "$exe" --version | grep -Eq "^mpcache [0-9]+\.[0-9]+\.[0-9]+$" || fail "--version"
    # Without --model, generate, eval and demo use the project's own model, from any directory.
    out=$(cd "$work" && "$exe" generate --prompt "In the beginning" --max-new-tokens 3 2>&1) || fail "generate without --model: $out"
    grep -q "generated 3" <<<"$out" || fail "generate without --model did not generate: $out"
    for command in generate eval demo; do
      help=$("$exe" $command --help)  # not piped into grep -q: pipefail would see the writer's SIGPIPE
      grep -Eq -- "--model TEXT:DIR=.*models/" <<<"$help" || fail "$command --help shows no default model"
    done
    # keygen refuses to replace a deployment unless --force, and then leaves no stale file behind.
    "$exe" keygen --parties 5 --out "$work/k" >/dev/null || fail "keygen failed"
    cp "$work/k/ca.crt" "$work/ca-before.crt"
    expect_error "already holds a deployment.*--force" "$exe" keygen --parties 3 --out "$work/k"
    cmp -s "$work/k/ca.crt" "$work/ca-before.crt" && [[ -f "$work/k/party4.key" ]] || fail "the refused keygen changed files"
    "$exe" keygen --parties 3 --out "$work/k" --force >/dev/null 2>&1 || fail "keygen --force failed"
    [[ ! -e "$work/k/party3.key" && ! -e "$work/k/party4.crt" ]] || fail "keygen --force left a larger deployment's files"
    openssl verify -CAfile "$work/k/ca.crt" "$work/k/party2.crt" >/dev/null || fail "new certificates do not verify"
    ;;
  context-limit)
    # One rule and one message for generate, demo and P1, before any work starts.
    require_kjv_model
    msg="prompt of [0-9]+ tokens plus 2000 new tokens exceeds the model's context of 1024 positions"
    expect_error "$msg" "$exe" generate --model "$model" --prompt "In the beginning" --max-new-tokens 2000
    out=$("$exe" demo --model "$model" --prompt "In the beginning" --max-new-tokens 2000 2>&1) && fail "demo accepted 2000 tokens"
    grep -Eq "$msg" <<<"$out" || fail "demo: expected /$msg/: $out"
    grep -q "fresh CA" <<<"$out" && fail "demo started parties before refusing: $out"
    reserve_ports
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$base_port" >/dev/null || fail "keygen failed"
    expect_error "$msg" "$exe" party --id 1 --parties "$work/d/parties.json" --model "$model" --prompt "In the beginning" \
      --max-new-tokens 2000 --connect-timeout 2
    ;;
  prompt-required)
    require_kjv_model
    reserve_ports
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$base_port" >/dev/null || fail "keygen failed"
    party1=("$exe" party --id 1 --parties "$work/d/parties.json" --model "$model" --connect-timeout 2)
    expect_error "P1 needs the user's prompt" "${party1[@]}"
    expect_error "excludes" "${party1[@]}" --prompt x --prompt-file "$work/none"
    expect_error "cannot read the prompt file" "${party1[@]}" --prompt-file "$work/none"
    expect_error "the prompt is empty" "${party1[@]}" --prompt-file - </dev/null
    # A full 2PC run with the prompt on P1's standard input.
    for id in 0 2; do
      "$exe" party --id "$id" --parties "$work/d/parties.json" --model "$model" --max-new-tokens 2 >"$work/p$id.log" 2>&1 &
      pids[$id]=$!
    done
    out=$("$exe" party --id 1 --parties "$work/d/parties.json" --model "$model" --max-new-tokens 2 --prompt-file - \
          <<<"In the beginning God created" 2>&1) || fail "P1 failed with the prompt on stdin: $out"
    grep -q "^generated: " <<<"$out" || fail "P1 printed no result: $out"
    wait "${pids[0]}" && wait "${pids[2]}" || fail "P0 or the dealer failed: $(cat "$work/p0.log" "$work/p2.log")"
    # The demo hands the prompt to P1 in a 0600 file: it is on no command line.
    secret="Zerubbabel"
    "$exe" demo --protocol 2pc --model "$model" --prompt "$secret spake" --max-new-tokens 2 --work-dir "$work/demo" \
      >"$work/demo.log" 2>&1 &
    demo=$!
    seen=0
    while kill -0 $demo 2>/dev/null; do
      args=$(ps -eo args= | grep -F -- "--parties $work/demo/" | grep -v grep)
      [[ -n "$args" ]] && seen=1
      grep -qF -- "$secret" <<<"$args" && fail "the prompt is on a party's command line: $args"
      if [[ -f "$work/demo/2pc/prompt.txt" ]]; then
        mode=$(stat -c %a "$work/demo/2pc/prompt.txt" 2>/dev/null) || true
        [[ -z "$mode" || $mode == 600 ]] || fail "the prompt file has mode $mode"
      fi
      sleep 0.05
    done
    wait $demo || fail "demo failed: $(cat "$work/demo.log")"
    (( seen )) || fail "never saw the demo's party processes"
    [[ ! -e "$work/demo/2pc/prompt.txt" ]] || fail "the demo left the prompt file behind"
    echo "ok: prompt from stdin; demo prompt on no command line"
    ;;
  party-decode-bench)
    # A standalone party of the benchmark prints progress at the default log level and its table.
    reserve_ports
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$base_port" >/dev/null || fail "keygen failed"
    for id in 0 1 2; do
      "$exe" party --id "$id" --parties "$work/d/parties.json" --protocol 2pc --job decode-bench --shape tiny \
        --cache-lengths 32,48 --steps 2 --text "$source_dir/bench/data/kjv_ruth_ecclesiastes_jonah.txt" \
        --tokenizer "$source_dir/models/gpt2-tokenizer" >"$work/p$id.log" 2>&1 &
      pids[$id]=$!
    done
    for id in 0 1 2; do
      wait "${pids[$id]}" || fail "party $id failed: $(cat "$work/p$id.log")"
      grep -q "party $id: full, cache of 48 tokens (48 kept), decode step 2/2" "$work/p$id.log" \
        || fail "party $id printed no progress: $(cat "$work/p$id.log")"
      grep -Eq "^policy +n +cached +step s" "$work/p$id.log" || fail "party $id printed no table: $(cat "$work/p$id.log")"
      grep -Eq "^full +48 +48 +[0-9.]+ +[0-9.]+ +[0-9]+" "$work/p$id.log" || fail "party $id: no row for n = 48"
    done
    grep -Eq "^full +32 +32 .*\[[0-9]+,[0-9]+\]$" "$work/p1.log" || fail "P1 should list its tokens"
    ;;
  launcher-signal)
    # SIGTERM or SIGINT to a launcher reaches its parties: none survives, the launcher exits non-zero.
    for sig in TERM INT; do
      if [[ $sig == TERM ]]; then
        "$exe" bench-decode --protocol 2pc --shape tiny --cache-lengths 32 --steps 1000 --out "$work/b" \
          --text "$source_dir/bench/data/kjv_ruth_ecclesiastes_jonah.txt" \
          --tokenizer "$source_dir/models/gpt2-tokenizer" >"$work/l.log" 2>&1 &
      else
        "$exe" demo --job matmul --protocol 3pc --rows 64 --inner 768 --cols 3072 --repeats 100 >"$work/l.log" 2>&1 &
      fi
      launcher=$!
      children=""
      for (( i = 0; i < 1200; ++i )); do
        children=$(ps -o pid= --ppid $launcher | tr -d ' ')
        [[ $(wc -w <<<"$children") == 3 ]] && break
        sleep 0.05
      done
      [[ $(wc -w <<<"$children") == 3 ]] || fail "[$sig] the launcher did not start 3 parties: $(cat "$work/l.log")"
      sleep 1
      kill -$sig $launcher
      wait_until_gone $launcher 15000 || fail "[$sig] the launcher still runs 15 s after SIG$sig"
      wait $launcher; rc=$?
      [[ $rc -ne 0 ]] || fail "[$sig] the launcher exited 0 after SIG$sig"
      for c in $children; do
        kill -0 "$c" 2>/dev/null && fail "[$sig] party process $c survived its launcher"
      done
      grep -q "interrupted by signal" "$work/l.log" || fail "[$sig] no message: $(cat "$work/l.log")"
      echo "ok: SIG$sig -> launcher exit $rc, parties gone"
    done
    ;;
  bench-decode-killed)
    # A party killed during bench-decode: the rows finished before are written, the first party to
    # fail is named with its signal, and no guess is printed as a fact.
    "$exe" bench-decode --protocol 2pc --shape tiny --cache-lengths 32,36,40,44,48,52,56,60,64,68,72,76,80 --steps 2 \
      --out "$work/b" --text "$source_dir/bench/data/kjv_ruth_ecclesiastes_jonah.txt" \
      --tokenizer "$source_dir/models/gpt2-tokenizer" >"$work/l.log" 2>&1 &
    launcher=$!
    for (( i = 0; i < 2400; ++i )); do
      [[ -f "$work/b/decode_steps.csv" && $(wc -l <"$work/b/decode_steps.csv") -ge 2 ]] && break
      kill -0 $launcher 2>/dev/null || fail "bench-decode ended early: $(cat "$work/l.log")"
      sleep 0.05
    done
    [[ $(wc -l <"$work/b/decode_steps.csv") -ge 2 ]] || fail "no row was written while the run went on"
    p0=$(pgrep -P $launcher -f -- "party --id 0 ")
    [[ -n "$p0" ]] || fail "cannot find P0"
    kill -9 "$p0"
    wait $launcher && fail "bench-decode must fail when P0 is killed"
    grep -q "P0 failed first: killed by signal 9" "$work/l.log" || fail "P0 not named first: $(cat "$work/l.log")"
    grep -q "kernel log" "$work/l.log" || fail "the kernel log's evidence is not stated"
    grep -q "most likely" "$work/l.log" && fail "a guess is printed"
    grep -Eq "^dealer (failed|was stopped|finished)" "$work/l.log" || fail "the dealer's outcome is not listed: $(cat "$work/l.log")"
    rows=$(( $(wc -l <"$work/b/decode_steps.csv") - 1 ))
    (( rows >= 1 && rows < 13 )) || fail "expected the finished rows only, got $rows"
    grep -q "^loopback,true,2pc,full,32," "$work/b/decode_steps.csv" || fail "the first length is missing"
    echo "ok: $rows rows kept; $(grep -m1 "failed first" "$work/l.log")"
    ;;
  *) fail "unknown case $case_name" ;;
esac
echo "PASS $case_name"
