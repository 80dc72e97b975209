#!/usr/bin/python3
"""Plot and summarise the cache-policy study written by `mpcache bench-decode --policies ...`.

Outputs (PNG and markdown in the output folder, default RESULTS_DIR):
  policy_latency.png        decode-step latency vs cache length n, one line per policy, one panel per protocol
  policy_latency_NET.png    the same projected onto each link profile NET (lan, wan) the study projected to
  policy_communication.png  online+offline MB per decode step vs n, same layout
  policy_breakdown.png      at the largest n: per policy, step time (top row) and bytes (bottom row) split into
                            selection / eviction / attention / rest, one column per protocol
  policy_summary.md         per n and protocol: step s, MB, rounds, full/policy ratios, selection share, tokens
                            matching plaintext, and per projected link the step s and latency ratio; plus the
                            2PC bars for MPCache at the largest n (also printed)

Usage: /usr/bin/python3 tools/plot_policy_study.py RESULTS_DIR [--out DIR]
(RESULTS_DIR holds decode_steps.csv and decode_profile.csv; any subset of policies/protocols may be present.)
"""
import argparse
import csv
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STEP_COLUMNS = ["protocol", "policy", "cache_length", "steps", "step_seconds", "online_bytes", "offline_bytes",
                "rounds", "selection_time_share", "tokens_matching_plaintext"]
PROFILE_COLUMNS = ["protocol", "policy", "cache_length", "operator_class", "seconds", "online_bytes",
                   "offline_bytes"]
# Canonical order so colours and table rows stay stable across runs with different policy subsets.
POLICY_ORDER = ["full", "streamingllm", "h2o", "tova", "snapkv", "quest", "mpcache", "mpcache-flat",
                "mpcache-unshared"]
PARTS = ["selection", "eviction", "attention", "rest"]
PART_COLOURS = {"selection": "tab:red", "eviction": "tab:orange", "attention": "tab:blue", "rest": "tab:gray"}
# Targets for MPCache vs full attention in 2PC at the largest cache length.
LATENCY_BAR = 2.5
COMMUNICATION_BAR = 10.0
SELECTION_SHARE_BAR = 0.15


def read_csv(path, required):
    if not os.path.isfile(path):
        sys.exit(f"{path}: file not found")
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        missing = [c for c in required if c not in (reader.fieldnames or [])]
        if missing:
            sys.exit(f"{path}: missing columns {', '.join(missing)}")
        rows = list(reader)
    if not rows:
        sys.exit(f"{path}: no rows")
    return rows


def policy_key(policy):
    """Sort known policies in study order, unknown ones after them alphabetically."""
    return (POLICY_ORDER.index(policy), "") if policy in POLICY_ORDER else (len(POLICY_ORDER), policy)


def policy_colours(policies):
    cmap = plt.get_cmap("tab10")
    ordered = sorted(set(policies), key=policy_key)
    return {p: cmap(i % 10) for i, p in enumerate(ordered)}


def index_steps(rows, network="loopback"):
    """(protocol, policy, n) -> row of decode_steps.csv on one network (a file without a network column
    holds one network: all its rows)."""
    return {(r["protocol"], r["policy"], int(r["cache_length"])): r for r in rows if r.get("network", network) == network}


def projected_networks(rows):
    """The link profiles other than loopback that the study has rows for, in the file's order."""
    seen = []
    for r in rows:
        net = r.get("network", "loopback")
        if net != "loopback" and net not in seen:
            seen.append(net)
    return seen


def projected_seconds(row):
    return float(row["projected_seconds"])


def total_mb(row):
    return (float(row["online_bytes"]) + float(row["offline_bytes"])) / 1e6


def protocols_of(steps):
    return sorted({k[0] for k in steps})


def lengths_of(steps, protocol=None):
    return sorted({k[2] for k in steps if protocol is None or k[0] == protocol})


def policies_of(steps, protocol):
    return sorted({k[1] for k in steps if k[0] == protocol}, key=policy_key)


def plot_vs_n(steps, value, ylabel, title, out_path):
    """One panel per protocol, one line per policy, log-2 x axis ticked at the measured n."""
    protocols = protocols_of(steps)
    colours = policy_colours(k[1] for k in steps)
    fig, axes = plt.subplots(1, len(protocols), figsize=(7 * len(protocols), 5), squeeze=False)
    for ax, protocol in zip(axes[0], protocols):
        for policy in policies_of(steps, protocol):
            ns = [n for n in lengths_of(steps, protocol) if (protocol, policy, n) in steps]
            ys = [value(steps[(protocol, policy, n)]) for n in ns]
            ax.plot(ns, ys, marker="o", color=colours[policy], label=policy)
        ticks = lengths_of(steps, protocol)
        ax.set_xscale("log", base=2)
        ax.set_xticks(ticks, [str(n) for n in ticks])
        ax.minorticks_off()
        ax.set(xlabel="cache length n (tokens)", ylabel=ylabel, title=f"{title} ({protocol.upper()})")
        ax.set_ylim(bottom=0)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    print(f"wrote {out_path}")


def part_of(operator_class):
    if operator_class.startswith("selection."):
        return "selection"
    if operator_class == "eviction":
        return "eviction"
    if operator_class.startswith("attention."):
        return "attention"
    return "rest"


def breakdown(profile, protocol, n):
    """policy -> {part: (seconds, MB)} at one protocol and cache length."""
    result = {}
    for r in profile:
        if r["protocol"] != protocol or int(r["cache_length"]) != n:
            continue
        parts = result.setdefault(r["policy"], {p: [0.0, 0.0] for p in PARTS})
        part = parts[part_of(r["operator_class"])]
        part[0] += float(r["seconds"])
        part[1] += (float(r["online_bytes"]) + float(r["offline_bytes"])) / 1e6
    return result


def stacked_bars(ax, split, metric, xlabel, title):
    policies = sorted(split, key=policy_key)
    left = [0.0] * len(policies)
    for part in PARTS:
        widths = [split[p][part][metric] for p in policies]
        ax.barh(range(len(policies)), widths, left=left, color=PART_COLOURS[part], label=part)
        left = [a + b for a, b in zip(left, widths)]
    ax.set_yticks(range(len(policies)), policies)
    ax.invert_yaxis()
    ax.set(xlabel=xlabel, title=title)
    ax.grid(axis="x", alpha=0.3)


def plot_breakdown(profile, out_path):
    protocols = sorted({r["protocol"] for r in profile})
    fig, axes = plt.subplots(2, len(protocols), figsize=(7 * len(protocols), 9), squeeze=False)
    for col, protocol in enumerate(protocols):
        n = max(int(r["cache_length"]) for r in profile if r["protocol"] == protocol)
        split = breakdown(profile, protocol, n)
        stacked_bars(axes[0][col], split, 0, "seconds per decode step", f"step time split, {protocol.upper()}, n = {n}")
        stacked_bars(axes[1][col], split, 1, "MB per decode step (online+offline)",
                     f"communication split, {protocol.upper()}, n = {n}")
    # One shared legend above the panels so it never covers the longest bars.
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="upper center", ncol=len(PARTS), fontsize=9)
    fig.tight_layout(rect=(0, 0, 1, 0.96))
    fig.savefig(out_path, dpi=110)
    plt.close(fig)
    print(f"wrote {out_path}")


def ratio(numerator, denominator):
    return numerator / denominator if denominator > 0 else float("nan")


def fmt_ratio(value):
    return "n/a" if value is None or value != value else f"{value:.2f}x"


def summary_table(steps, protocol, n, projected):
    """`projected`: network -> its index_steps, whose step time is the projection."""
    full = steps.get((protocol, "full", n))
    nets = list(projected)
    header = "".join(f" {net} s (projected) | {net} full/policy |" for net in nets)
    lines = [f"### {protocol.upper()}, n = {n}", "",
             "| policy | step s | MB | rounds | latency full/policy | comm full/policy | selection share | "
             "tokens matching plaintext |" + header,
             "|---|---:|---:|---:|---:|---:|---:|---:|" + "---:|---:|" * len(nets)]
    for policy in policies_of(steps, protocol):
        row = steps.get((protocol, policy, n))
        if row is None:
            continue
        latency = ratio(float(full["step_seconds"]), float(row["step_seconds"])) if full else None
        comm = ratio(total_mb(full), total_mb(row)) if full else None
        cells = ""
        for net in nets:
            prow, pfull = projected[net].get((protocol, policy, n)), projected[net].get((protocol, "full", n))
            if prow is None:
                cells += " - | - |"
                continue
            pratio = ratio(projected_seconds(pfull), projected_seconds(prow)) if pfull else None
            cells += f" {projected_seconds(prow):.3f} | {fmt_ratio(pratio)} |"
        lines.append(f"| {policy} | {float(row['step_seconds']):.4f} | {total_mb(row):.2f} | "
                     f"{float(row['rounds']):.0f} | {fmt_ratio(latency)} | {fmt_ratio(comm)} | "
                     f"{100 * float(row['selection_time_share']):.1f}% | "
                     f"{int(float(row['tokens_matching_plaintext']))}/{int(float(row['steps']))} |" + cells)
    return lines + [""]


def verdict(met):
    return "MET" if met else "NOT MET"


def bars_block(steps, projected):
    """MPCache vs full in 2PC at the largest n where both were measured (and projected per link)."""
    lines = ["## Bars (2PC, MPCache vs full, largest n)", ""]
    both = [n for n in lengths_of(steps, "2pc") if ("2pc", "mpcache", n) in steps and ("2pc", "full", n) in steps]
    if not both:
        return lines + ["n/a: 2PC results for both `full` and `mpcache` are needed", ""]
    n = max(both)
    full, mpc = steps[("2pc", "full", n)], steps[("2pc", "mpcache", n)]
    latency = ratio(float(full["step_seconds"]), float(mpc["step_seconds"]))
    comm = ratio(total_mb(full), total_mb(mpc))
    share = float(mpc["selection_time_share"])
    return lines + [
        f"n = {n}",
        "",
        f"- latency ratio full/mpcache: {latency:.2f}x (bar >= {LATENCY_BAR}x): {verdict(latency >= LATENCY_BAR)}",
        f"- communication ratio full/mpcache: {comm:.2f}x (bar >= {COMMUNICATION_BAR:g}x): "
        f"{verdict(comm >= COMMUNICATION_BAR)}",
        f"- selection share of mpcache step time: {100 * share:.1f}% (bar <= {100 * SELECTION_SHARE_BAR:g}%): "
        f"{verdict(share <= SELECTION_SHARE_BAR)}"] + [
        f"- latency ratio full/mpcache projected on {net}: "
        f"{ratio(projected_seconds(p[('2pc', 'full', n)]), projected_seconds(p[('2pc', 'mpcache', n)])):.2f}x"
        for net, p in projected.items() if ("2pc", "full", n) in p and ("2pc", "mpcache", n) in p] + [""]


def write_summary(steps, projected, out_path):
    lines = ["# Cache-policy study", ""]
    for n in lengths_of(steps):
        for protocol in protocols_of(steps):
            if any(k[0] == protocol and k[2] == n for k in steps):
                lines += summary_table(steps, protocol, n, projected)
    lines += bars_block(steps, projected)
    text = "\n".join(lines)
    print(text)
    with open(out_path, "w") as f:
        f.write(text)
    print(f"wrote {out_path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results_dir")
    ap.add_argument("--out", default=None, help="output folder (default: RESULTS_DIR)")
    args = ap.parse_args()
    rows = read_csv(os.path.join(args.results_dir, "decode_steps.csv"), STEP_COLUMNS)
    steps = index_steps(rows)
    if not steps:
        sys.exit(f"{args.results_dir}: no loopback rows")
    projected = {net: index_steps(rows, net) for net in projected_networks(rows)}
    profile = read_csv(os.path.join(args.results_dir, "decode_profile.csv"), PROFILE_COLUMNS)
    out = args.out or args.results_dir
    os.makedirs(out, exist_ok=True)
    plot_vs_n(steps, lambda r: float(r["step_seconds"]), "seconds per decode step", "decode-step latency",
              os.path.join(out, "policy_latency.png"))
    plot_vs_n(steps, total_mb, "MB per decode step (online+offline)", "communication per step",
              os.path.join(out, "policy_communication.png"))
    for net, p in projected.items():
        plot_vs_n(p, projected_seconds, f"seconds per decode step, projected on {net}", f"decode-step latency on {net}",
                  os.path.join(out, f"policy_latency_{net}.png"))
    plot_breakdown(profile, os.path.join(out, "policy_breakdown.png"))
    write_summary(steps, projected, os.path.join(out, "policy_summary.md"))


if __name__ == "__main__":
    main()
