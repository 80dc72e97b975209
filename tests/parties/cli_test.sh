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
  grep -Eq -- "$pattern" <<<"$out" || fail "expected /$pattern/ in output of $*: $out"
  echo "ok: $* -> exit $rc: $(head -c 200 <<<"$out" | tr '\n' ' ')"
}

port() { echo $((20000 + RANDOM % 20000)); }

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
  keygen)
    "$exe" keygen --parties 3 --out "$work/d" --base-port 31000 || fail "keygen failed"
    for f in ca.crt party0.crt party1.crt party2.crt party0.key parties.json; do
      [[ -s "$work/d/$f" ]] || fail "keygen did not write $f"
    done
    [[ $(stat -c %a "$work/d/party0.key") == 600 ]] || fail "private keys must be 0600"
    openssl verify -CAfile "$work/d/ca.crt" "$work/d/party1.crt" || fail "certificate does not verify against the CA"
    openssl x509 -in "$work/d/party1.crt" -noout -subject | grep -q "mpcache-party-1" || fail "CN must name the party"
    ;;
  bad-flags)
    expect_error "protocol" "$exe" party --id 0 --parties /dev/null --protocol 4pc
    expect_error "parties" "$exe" party --id 0 --parties "$work/nope.json"
    expect_error "id" "$exe" party --id 7 --parties /dev/null
    expect_error "rows" "$exe" demo --rows 0
    expect_error "job" "$exe" demo --job train
    echo '{"ca": "ca.crt", "parties": [' > "$work/broken.json"
    expect_error "broken.json" "$exe" party --id 0 --parties "$work/broken.json"
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$(port)" >/dev/null || fail "keygen failed"
    expect_error "config.json" "$exe" party --id 0 --parties "$work/d/parties.json" --model "$work"
    expect_error "subcommand|required" "$exe"
    ;;
  missing-peer)
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$(port)" >/dev/null || fail "keygen failed"
    # The dealer never starts: both parties must give up with a message naming it.
    "$exe" party --job matmul --id 0 --parties "$work/d/parties.json" --connect-timeout 3 >"$work/p0.log" 2>&1 &
    p0=$!
    expect_error "party 2|dealer" "$exe" party --job matmul --id 1 --parties "$work/d/parties.json" --connect-timeout 3
    wait $p0 && fail "P0 should fail without the dealer"
    grep -Eq "party 2|dealer" "$work/p0.log" || fail "P0's error should name the missing peer: $(cat "$work/p0.log")"
    ;;
  peer-killed)
    "$exe" keygen --parties 3 --out "$work/d" --base-port "$(port)" >/dev/null || fail "keygen failed"
    args=(--parties "$work/d/parties.json" --job matmul --protocol 3pc --rows 64 --inner 768 --cols 3072 --repeats 1000 --io-timeout 30)
    "$exe" party --id 0 "${args[@]}" >"$work/p0.log" 2>&1 & p0=$!
    "$exe" party --id 1 "${args[@]}" >"$work/p1.log" 2>&1 & p1=$!
    "$exe" party --id 2 "${args[@]}" >"$work/p2.log" 2>&1 & p2=$!
    sleep 3
    kill -9 $p2
    start=$(date +%s)
    wait $p0; rc0=$?
    wait $p1; rc1=$?
    elapsed=$(( $(date +%s) - start ))
    [[ $rc0 -ne 0 && $rc1 -ne 0 ]] || fail "surviving parties must exit non-zero (got $rc0, $rc1)"
    (( elapsed <= 10 )) || fail "surviving parties took ${elapsed}s to notice the lost peer"
    # Whoever notices first names party 2; the other may see that survivor leave first and name it.
    cat "$work/p0.log" "$work/p1.log" | grep -Eq "(receiving from|sending to) party 2 failed in phase 'matmul'" \
      || fail "no survivor named party 2: $(cat "$work/p0.log" "$work/p1.log")"
    grep -Eq "party [0-2] failed in phase 'matmul'" "$work/p0.log" || fail "P0 must name a peer and the phase"
    grep -Eq "party [0-2] failed in phase 'matmul'" "$work/p1.log" || fail "P1 must name a peer and the phase"
    echo "ok: survivors exited $rc0/$rc1 within ${elapsed}s: $(tail -n1 "$work/p1.log") / $(tail -n1 "$work/p0.log")"
    ;;
  *) fail "unknown case $case_name" ;;
esac
echo "PASS $case_name"
