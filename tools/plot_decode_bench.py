#!/usr/bin/python3
"""Plot the CSVs written by `mpcache bench-decode` as one PNG.

Panels: decode-step latency vs cache length n (with the plaintext step for reference), online and
offline bytes per step vs n, and the time per operator class at the largest n for each protocol.

Usage: /usr/bin/python3 tools/plot_decode_bench.py RESULTS_DIR [--out PLOT.png]
(RESULTS_DIR holds decode_steps.csv and decode_profile.csv.)
"""
import argparse
import collections
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_csv(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no rows")
    return rows


def by_protocol(rows):
    groups = collections.defaultdict(list)
    for r in rows:
        groups[(r["protocol"], r["policy"])].append(r)
    for g in groups.values():
        g.sort(key=lambda r: int(r["cache_length"]))
    return groups


def plot_latency(ax, groups):
    for (protocol, policy), rows in sorted(groups.items()):
        n = [int(r["cache_length"]) for r in rows]
        ax.plot(n, [float(r["step_seconds"]) for r in rows], marker="o", label=f"{protocol} {policy}")
    plain = next(iter(groups.values()))
    ax.plot([int(r["cache_length"]) for r in plain], [float(r["plaintext_step_seconds"]) for r in plain],
            linestyle="--", color="gray", label="plaintext")
    ax.set(xscale="log", yscale="log", xlabel="cached tokens n", ylabel="seconds per decode step",
           title="decode-step latency")
    ax.legend(fontsize=8)


def plot_bytes(ax, groups):
    for (protocol, policy), rows in sorted(groups.items()):
        n = [int(r["cache_length"]) for r in rows]
        ax.plot(n, [float(r["online_bytes"]) / 1e6 for r in rows], marker="o", label=f"{protocol} {policy} online")
        offline = [float(r["offline_bytes"]) / 1e6 for r in rows]
        if any(offline):
            ax.plot(n, offline, marker="x", linestyle=":", label=f"{protocol} {policy} offline")
    ax.set(xscale="log", yscale="log", xlabel="cached tokens n", ylabel="MB per decode step",
           title="communication per step (all parties)")
    ax.legend(fontsize=8)


def plot_profile(ax, profile_rows):
    largest = max(int(r["cache_length"]) for r in profile_rows)
    rows = [r for r in profile_rows if int(r["cache_length"]) == largest]
    protocols = sorted({(r["protocol"], r["policy"]) for r in rows})
    classes = sorted({r["operator_class"] for r in rows})
    width = 0.8 / len(protocols)
    for i, key in enumerate(protocols):
        seconds = {r["operator_class"]: float(r["seconds"]) for r in rows if (r["protocol"], r["policy"]) == key}
        ax.barh([c + i * width for c in range(len(classes))], [seconds.get(c, 0.0) for c in classes], height=width,
                label=f"{key[0]} {key[1]}")
    ax.set_yticks([c + 0.4 - width / 2 for c in range(len(classes))], classes, fontsize=8)
    ax.set(xlabel="seconds per step", title=f"time per operator class, n = {largest}")
    ax.legend(fontsize=8)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results_dir")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()
    steps = read_csv(os.path.join(args.results_dir, "decode_steps.csv"))
    profile = read_csv(os.path.join(args.results_dir, "decode_profile.csv"))
    groups = by_protocol(steps)
    fig, axes = plt.subplots(1, 3, figsize=(18, 5.5))
    plot_latency(axes[0], groups)
    plot_bytes(axes[1], groups)
    plot_profile(axes[2], profile)
    fig.tight_layout()
    out = args.out or os.path.join(args.results_dir, "decode_steps.png")
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
