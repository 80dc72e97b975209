#!/bin/bash
# The long-context decode benchmark as three separate party processes (2PC: P0, P1 and the
# dealer), started the way a multi-machine run starts them (README: multi-machine runs), here on
# one host, with the default --connect-timeout and --io-timeout. P0's plaintext prefill of a long
# cache runs for minutes without a message; the keep-alive beats keep P1 and the dealer waiting.
#
#   tools/standalone_decode_bench.sh [N (4096)] [OUT_DIR (a fresh temporary folder)] [MPCACHE binary]
set -euo pipefail
n=${1:-4096}
out=${2:-$(mktemp -d /tmp/mpcache-standalone-XXXXXX)}
bin=${3:-build/release/parties/mpcache}
mkdir -p "$out"
"$bin" keygen --out "$out/keys" --force > "$out/keygen.log"
common=(--parties "$out/keys/parties.json" --job decode-bench --cache-lengths "$n" --steps 2 --policies full)
start=$(date +%s)
pids=()
"$bin" party --id 0 --protocol 2pc "${common[@]}" --json "$out/p0.json" > "$out/p0.log" 2>&1 & pids+=($!)
"$bin" party --id 1 --protocol 2pc "${common[@]}" --json "$out/p1.json" > "$out/p1.log" 2>&1 & pids+=($!)
"$bin" dealer "${common[@]}" --json "$out/p2.json" > "$out/p2.log" 2>&1 & pids+=($!)
trap 'kill "${pids[@]}" 2>/dev/null || true' INT TERM
status=0
for i in 0 1 2; do
  if wait "${pids[$i]}"; then echo "party $i: exit 0"; else rc=$?; echo "party $i: exit $rc (log: $out/p$i.log)"; status=1; fi
done
echo "$(( $(date +%s) - start )) s in all; $(grep -h 'plaintext prefill' "$out/p0.log" || true); results in $out"
exit $status
