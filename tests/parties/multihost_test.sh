#!/usr/bin/env bash
# Private inference with every party on its own host: three network namespaces joined by veth pairs
# to a bridge in a fourth ("switch") namespace, addresses only inside those namespaces. Each host
# gets only its own key and certificate, the CA and the parties file, as README's multi-machine
# steps say; 2PC + dealer and 3PC runs must produce the plaintext engine's greedy tokens.
# Needs root and iproute2; exits 77 (skipped) otherwise. The namespaces are removed on any exit.
#
# Usage: multihost_test.sh PATH_TO_MPCACHE [tbf]
#   tbf: instead, compare the kernel's rate limiting (tc tbf on every veth, no delay) with the
#        in-process shaper at the same rate, on the decode benchmark (prints both times).
set -uo pipefail
exe="$(realpath "$1")"
mode="${2:-tokens}"
source_dir="$(cd "$(dirname "$0")/../.." && pwd)"
model="$source_dir/models/kjv-gpt2"
tag="mpc$$"
hosts=("${tag}h0" "${tag}h1" "${tag}h2")
switch="${tag}sw"
work=$(mktemp -d)

skip() { echo "SKIP: $*"; exit 77; }
fail() { echo "FAIL: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || skip "network namespaces need root"
command -v ip >/dev/null || skip "iproute2 (ip) is not installed (scripts/setup installs it)"
[[ -f "$model/model.safetensors" ]] || skip "$model is absent"

cleanup() {
  local pids
  pids=$(jobs -p); [[ -n "$pids" ]] && kill $pids 2>/dev/null
  wait 2>/dev/null
  for ns in "${hosts[@]}" "$switch"; do ip netns del "$ns" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

ip netns add "$switch" || skip "cannot create network namespaces here"
ip -n "$switch" link add br0 type bridge
ip -n "$switch" link set br0 up
for i in 0 1 2; do
  ns="${hosts[$i]}"
  ip netns add "$ns" || fail "ip netns add $ns"
  ip link add "${tag}v$i" type veth peer name "${tag}p$i" || fail "veth pair $i"
  ip link set "${tag}v$i" netns "$ns"
  ip link set "${tag}p$i" netns "$switch"
  ip -n "$ns" link set "${tag}v$i" name eth0
  ip -n "$switch" link set "${tag}p$i" master br0
  ip -n "$switch" link set "${tag}p$i" up
  ip -n "$ns" link set eth0 up
  ip -n "$ns" link set lo up
done
subnet="10.213.$((RANDOM % 200 + 1))"
for i in 0 1 2; do ip -n "${hosts[$i]}" addr add "$subnet.$((i + 1))/24" dev eth0 || fail "address of host $i"; done

# keygen once (the deployment's administrator), then each host gets only what is its own.
"$exe" keygen --parties 3 --out "$work/deployment" --base-port 47100 >/dev/null || fail "keygen"
# Party i's host is the i-th "host" entry of the file (keygen writes the parties in id order).
awk -v subnet="$subnet" '/"host":/ { sub(/"host": "[^"]*"/, "\"host\": \"" subnet "." (++n) "\"") } { print }' \
  "$work/deployment/parties.json" >"$work/parties.json" && mv "$work/parties.json" "$work/deployment/parties.json"
for i in 0 1 2; do
  mkdir -p "$work/host$i"
  cp "$work/deployment/ca.crt" "$work/deployment/parties.json" "$work/deployment/party$i.crt" "$work/deployment/party$i.key" "$work/host$i/"
done
grep -q "$subnet.3" "$work/host2/parties.json" || fail "parties file does not name the hosts: $(cat "$work/host2/parties.json")"

# Runs one party per host in the background; waits for all; returns non-zero if any failed.
run_on_hosts() {
  local protocol="$1"; shift
  local pids=() id rc=0
  for id in 0 1 2; do
    local cmd=(party --id "$id")
    [[ $protocol == 2pc && $id == 2 ]] && cmd=(dealer)
    local extra=()
    [[ $id == 1 && -n "${PROMPT:-}" ]] && extra=(--prompt "$PROMPT")
    ip netns exec "${hosts[$id]}" "$exe" --log-level info "${cmd[@]}" --parties "$work/host$id/parties.json" \
      $([[ ${cmd[0]} == party ]] && echo --protocol "$protocol") --connect-timeout 60 \
      --json "$work/$protocol-p$id.json" "$@" "${extra[@]}" >"$work/$protocol-p$id.log" 2>&1 &
    pids+=($!)
  done
  for id in 0 1 2; do wait "${pids[$id]}" || { rc=1; echo "--- party $id ($protocol) failed:"; cat "$work/$protocol-p$id.log"; }; done
  return $rc
}

json_text() { grep -o "\"$2\": \"[^\"]*\"" "$1" | head -1 | sed "s/^\"$2\": //"; }

if [[ $mode == tokens ]]; then
  PROMPT="And God said, Let there be light"
  tokens=4
  "$exe" generate --model "$model" --prompt "$PROMPT" --max-new-tokens $tokens --json "$work/plain.json" >/dev/null ||
    fail "plaintext generate"
  expected=$(json_text "$work/plain.json" generated_text)
  for protocol in 2pc 3pc; do
    run_on_hosts "$protocol" --job generate --model "$model" --max-new-tokens $tokens || fail "$protocol run across hosts failed"
    got=$(json_text "$work/$protocol-p1.json" text)
    [[ -n "$got" && "$got" == "$expected" ]] || fail "$protocol: P1 got $got, the plaintext engine $expected"
    grep -q "$subnet" "$work/$protocol-p0.log" "$work/$protocol-p1.log" 2>/dev/null || true
    echo "ok: $protocol across three hosts: $got (same as the plaintext engine)"
  done
  echo "PASS multihost"
  exit 0
fi

[[ $mode == tbf ]] || fail "unknown mode $mode"
rate="${RATE:-400mbit}"
bench=(--job decode-bench --shape tiny --cache-lengths 64 --steps 3 --policies full
       --text "$source_dir/bench/data/kjv_ruth_ecclesiastes_jonah.txt" --tokenizer "$source_dir/models/gpt2-tokenizer")
# The median of P1's three "decode step k/3 in S s" progress lines.
step_seconds() { grep -o 'decode step [0-9]*/[0-9]* in [0-9.]* s' "$1" | awk '{ print $5 }' | sort -g | sed -n 2p; }
run_on_hosts 2pc "${bench[@]}" || fail "unshaped run"
echo "no shaping: P1 median step $(step_seconds "$work/2pc-p1.log") s"
for i in 0 1 2; do
  ip netns exec "${hosts[$i]}" tc qdisc add dev eth0 root tbf rate "$rate" burst 256kb latency 400ms ||
    skip "tc tbf is not available here"
done
run_on_hosts 2pc "${bench[@]}" || fail "run under tbf"
echo "kernel tbf $rate on every host's link: P1 median step $(step_seconds "$work/2pc-p1.log") s"
for i in 0 1 2; do ip netns exec "${hosts[$i]}" tc qdisc del dev eth0 root; done
run_on_hosts 2pc "${bench[@]}" --network "$rate,10us" || fail "run with the in-process shaper"
echo "in-process shaper $rate (10 us RTT): P1 median step $(step_seconds "$work/2pc-p1.log") s"
