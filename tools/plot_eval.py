#!/usr/bin/python3
"""Plot the CSV written by `mpcache eval --csv` as one PNG: quality vs KV-cache budget per policy.

Panels: perplexity for each document length (lower is better), needle retrieval exact match
(higher is better) and mean NLL of the needle answer (lower is better), and greedy agreement with
the full cache up to the first divergence (higher is better), averaged over lengths and depths.
The full cache is the dashed reference line; the needle panels also show the control (the same
prompts without the needle) as a dotted line.

Usage: /usr/bin/python3 tools/plot_eval.py RESULTS.csv [--out PLOT.png] [--title TEXT]
"""
import argparse
import collections
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

MARKERS = "osD^v<>ph*X"


def read_rows(path):
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    if not rows:
        sys.exit(f"{path}: no result rows")
    missing = {"task", "policy", "budget", "length", "samples"} - set(rows[0])
    if missing:
        sys.exit(f"{path}: not an `mpcache eval` CSV (missing columns {sorted(missing)})")
    return rows


def weighted_series(rows, task, column, length=None):
    """{policy: (budgets, values)} with values averaged over lengths, weighted by samples."""
    sums = collections.defaultdict(lambda: [0.0, 0])
    for r in rows:
        if r["task"] != task or r[column] == "" or (length is not None and int(r["length"]) != length):
            continue
        cell = sums[(r["policy"], float(r["budget"]))]
        cell[0] += float(r[column]) * int(r["samples"])
        cell[1] += int(r["samples"])
    series = collections.defaultdict(lambda: ([], []))
    for (policy, budget), (total, samples) in sorted(sums.items(), key=lambda kv: (kv[0][0], kv[0][1])):
        series[policy][0].append(budget)
        series[policy][1].append(total / samples)
    return series


def draw(ax, series, policies, styles, title, ylabel, reference=None, log=False, percent=False):
    scale = 100.0 if percent else 1.0
    for policy in policies:
        if policy == "full" or policy not in series:
            continue
        budgets, values = series[policy]
        ax.plot([100 * b for b in budgets], [scale * v for v in values], label=policy, **styles[policy])
    if "full" in series:
        ax.axhline(scale * series["full"][1][0], color="black", linestyle="--", linewidth=1.2, label="full cache")
    if reference is not None:
        ax.axhline(scale * reference, color="grey", linestyle=":", linewidth=1.2, label="control (no needle)")
    ax.set_title(title)
    ax.set_xlabel("KV budget (% of prompt)")
    ax.set_ylabel(ylabel)
    ax.set_xscale("log")
    budgets = sorted({b for s in series.values() for b in s[0] if b < 1.0 or len(series) == 1})
    ax.set_xticks([100 * b for b in budgets])
    ax.set_xticklabels([f"{100 * b:g}" for b in budgets])
    ax.minorticks_off()
    if log:
        ax.set_yscale("log")
    if percent:
        ax.set_ylim(-3, 103)
    ax.grid(True, alpha=0.3)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv")
    ap.add_argument("--out", help="PNG file (default: the CSV name with .png)")
    ap.add_argument("--title", default="KV-cache policies vs budget")
    args = ap.parse_args()
    rows = read_rows(args.csv)
    out = args.out or (args.csv[:-4] if args.csv.endswith(".csv") else args.csv) + ".png"

    policies = list(dict.fromkeys(r["policy"] for r in rows))
    # tab10 without its red, which marks MPCache.
    colors = [c for i, c in enumerate(plt.get_cmap("tab10").colors) if i != 3] + ["#000080", "#808000"]
    styles = {}
    for i, p in enumerate(q for q in policies if q != "full"):
        bold = p == "mpcache"
        styles[p] = {"color": "#d62728" if bold else colors[i % len(colors)], "marker": MARKERS[i % len(MARKERS)],
                     "linewidth": 2.6 if bold else 1.2, "markersize": 6 if bold else 4, "zorder": 3 if bold else 2}

    panels = []
    for length in sorted({int(r["length"]) for r in rows if r["task"] == "perplexity"}):
        panels.append(dict(series=weighted_series(rows, "perplexity", "perplexity", length),
                           title=f"Perplexity, {length}-token documents", ylabel="perplexity (lower is better)"))
    if any(r["task"] == "needle" for r in rows):
        control = weighted_series(rows, "needle_control", "exact_match")
        panels.append(dict(series=weighted_series(rows, "needle", "exact_match"), title="Needle retrieval",
                           ylabel="exact match, % (higher is better)", percent=True,
                           reference=control["full"][1][0] if "full" in control else None))
        nll_control = weighted_series(rows, "needle_control", "mean_nll")
        panels.append(dict(series=weighted_series(rows, "needle", "mean_nll"), title="Needle answer likelihood",
                           ylabel="answer NLL, nats (lower is better)",
                           reference=nll_control["full"][1][0] if "full" in nll_control else None))
    if any(r["task"] == "agreement" for r in rows):
        panels.append(dict(series=weighted_series(rows, "agreement", "prefix_agreement"),
                           title="Greedy agreement with the full cache",
                           ylabel="tokens before divergence, %", percent=True))
    if not panels:
        sys.exit(f"{args.csv}: no perplexity, needle or agreement rows to plot")

    columns = 2 if len(panels) > 1 else 1
    rows_count = (len(panels) + columns - 1) // columns
    fig, axes = plt.subplots(rows_count, columns, figsize=(6.2 * columns, 4.4 * rows_count), squeeze=False)
    for ax, panel in zip(axes.flat, panels):
        draw(ax, policies=policies, styles=styles, **panel)
    spare = list(axes.flat)[len(panels):]
    for ax in spare:
        ax.axis("off")
    handles, labels = {}, []
    for ax in axes.flat:
        for h, l in zip(*ax.get_legend_handles_labels()):
            if l not in handles:
                handles[l] = h
                labels.append(l)
    fig.suptitle(args.title)
    if spare:  # the legend fills the empty panel
        spare[0].legend([handles[l] for l in labels], labels, loc="center", ncol=2, frameon=False, fontsize=11)
        fig.tight_layout()
    else:
        fig.legend([handles[l] for l in labels], labels, loc="lower center", ncol=min(7, len(labels)), frameon=False)
        fig.tight_layout(rect=(0, 0.08 if len(labels) <= 7 else 0.12, 1, 1))
    fig.savefig(out, dpi=110)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
