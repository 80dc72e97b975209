#!/usr/bin/env python3
"""Peak resident memory against what the shares need, per party, from bench-decode results.

Reads one or more decode_steps.json files (bench-decode --out) and prints a markdown table: for
every measured (protocol, policy, n) row, each party's peak resident memory (peak_rss_bytes_pI),
the least its secret state needs by the protocol (necessary_bytes_pI) and their ratio, and the
three processes' peaks together (what one machine running all of them needs).

    tools/memory_table.py bench/results/long_context/*/decode_steps.json
"""
import json
import sys


def gb(v):
    return f"{v / 1e9:.2f}"


def cell(row, p):
    peak, need = row.get(f"peak_rss_bytes_p{p}"), row.get(f"necessary_bytes_p{p}")
    if peak is None or need is None:
        return "-"
    return f"{gb(peak)} / {gb(need)} ({peak / need:.2f}x)"


def table(rows):
    out = ["| protocol | policy | n | cached | P0 peak / needed GB | P1 | dealer or P2 | all parties peak GB |",
           "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        total = sum(r.get(f"peak_rss_bytes_p{p}") or 0 for p in range(3))
        out.append(f"| {r['protocol']} | {r['policy']} | {r['cache_length']} | {r['cached_rows']} | "
                   + " | ".join(cell(r, p) for p in range(3)) + f" | {gb(total)} |")
    return "\n".join(out)


def main(paths):
    if not paths:
        sys.exit(__doc__)
    rows = []
    for path in paths:
        with open(path) as f:
            rows += [r for r in json.load(f)["rows"] if r.get("measured", True)]
    rows.sort(key=lambda r: (r["protocol"], r["policy"], r["cache_length"]))
    print(table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
