#!/usr/bin/python3
"""Tables and a plot of decode steps measured on several emulated networks
(`mpcache bench-decode --network loopback lan wan ...`, possibly split over several runs).

Outputs in --out:
  network_latency.png  decode-step latency vs cache length n, one panel per protocol; solid lines are
                       measured, dotted ones the projection (compute + rounds x RTT/2 + busiest link bytes / rate)
  network_summary.md   every (network, protocol, policy, n): measured and projected seconds, the three terms
                       of the projection, rounds, MB, the dealer's transfer time and P1's wait for it; then
                       per network and protocol the gain of each policy over the full cache (latency and
                       communication), and which term dominates the full cache and MPCache

Usage: /usr/bin/python3 tools/plot_network_study.py RESULTS_DIR [RESULTS_DIR ...] --out DIR [--project lan wan]
(each RESULTS_DIR holds a decode_steps.csv; later directories add rows, a repeated point keeps the first;
the measured shaped rows are projected again from the loopback rows kept, so list the loopback run to project
from first)
"""
import argparse
import csv
import os

NETWORK_ORDER = ["loopback", "lan", "wan"]
# The named profiles of net/link_profile.cpp: rate in bit/s, round trip in s.
PROFILES = {"lan": (3e9, 0.3e-3), "wan": (400e6, 40e-3)}
POLICY_STYLE = {"full": "tab:gray", "mpcache": "tab:red", "streamingllm": "tab:green", "snapkv": "tab:olive",
                "h2o": "tab:blue", "quest": "tab:purple", "mpcache-flat": "tab:orange", "mpcache-unshared": "tab:pink"}
NETWORK_MARKER = {"loopback": "o", "lan": "s", "wan": "^"}


def number(text):
    return float(text) if text not in ("", None) else None


def read_rows(directories):
    rows, seen = [], set()
    for d in directories:
        with open(os.path.join(d, "decode_steps.csv"), newline="") as f:
            for r in csv.DictReader(f):
                key = (r["network"], r["measured"], r["protocol"], r["policy"], r["cache_length"])
                if key in seen:
                    continue
                seen.add(key)
                rows.append(r)
    return rows


def reproject(rows):
    """Projections of the measured shaped rows from the loopback rows present (the first directory's
    loopback rows win, see read_rows), by README's formula."""
    loopback = {(r["protocol"], r["policy"], r["cache_length"]): r for r in rows
                if r["network"] == "loopback" and r["measured"] == "true"}
    for r in rows:
        basis = loopback.get((r["protocol"], r["policy"], r["cache_length"]))
        if r["measured"] != "true" or r["network"] == "loopback" or basis is None or r["network"] not in PROFILES:
            continue
        rate, rtt = PROFILES[r["network"]]
        r["projected_seconds"] = str(float(basis["step_seconds"]) + float(basis["rounds"]) * rtt / 2
                                     + float(basis["busiest_link_wire_bytes"]) * 8 / rate)


def projected_rows(rows, networks):
    """Rows projected to `networks` from every measured loopback point that was not measured there,
    by README's formula: compute (the loopback step) + rounds x RTT/2 + busiest link wire bytes / rate."""
    measured = {(r["network"], r["protocol"], r["policy"], r["cache_length"]) for r in rows if r["measured"] == "true"}
    out = []
    for r in rows:
        if r["network"] != "loopback" or r["measured"] != "true":
            continue
        for network in networks:
            if (network, r["protocol"], r["policy"], r["cache_length"]) in measured:
                continue
            rate, rtt = PROFILES[network]
            p = dict(r)
            latency = float(r["rounds"]) * rtt / 2
            bandwidth = float(r["busiest_link_wire_bytes"]) * 8 / rate
            p.update(network=network, measured="false", step_seconds="", dealer_wait_seconds="",
                     latency_term_seconds=str(latency), bandwidth_term_seconds=str(bandwidth),
                     dealer_transfer_seconds=str(float(r["dealer_link_wire_bytes"]) * 8 / rate),
                     projected_seconds=str(float(r["step_seconds"]) + latency + bandwidth))
            out.append(p)
    return out


def network_rank(name):
    return NETWORK_ORDER.index(name) if name in NETWORK_ORDER else len(NETWORK_ORDER)


def sort_key(r):
    return (network_rank(r["network"]), r["protocol"], r["policy"], int(r["cache_length"]), r["measured"] != "true")


def megabytes(r):
    return (float(r["online_bytes"]) + float(r["offline_bytes"])) / 1e6


def fmt(value, digits=3):
    return "-" if value is None else f"{value:.{digits}f}"


def compute_term(r, rows):
    """The loopback step time of the same point (what the projection uses as compute)."""
    for o in rows:
        if (o["network"] == "loopback" and o["measured"] == "true" and o["protocol"] == r["protocol"]
                and o["policy"] == r["policy"] and o["cache_length"] == r["cache_length"]):
            return float(o["step_seconds"])
    return number(r["compute_seconds"])


def dominant(r, rows):
    terms = {"compute": compute_term(r, rows) or 0.0, "rounds x RTT/2": float(r["latency_term_seconds"]),
             "bytes / rate": float(r["bandwidth_term_seconds"])}
    name = max(terms, key=terms.get)
    total = sum(terms.values())
    return f"{name} ({100 * terms[name] / total:.0f}%)" if total > 0 else "-"


def all_rows_table(rows):
    lines = ["| network | protocol | policy | n | measured s | projected s | compute s | rounds x RTT/2 s | "
             "bytes/rate s | rounds | MB (online + dealer) | dealer transfer s | P1 waited for dealer s |",
             "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in sorted(rows, key=sort_key):
        measured = r["measured"] == "true"
        lines.append(
            f"| {r['network']}{'' if measured else ' (projected)'} | {r['protocol']} | {r['policy']} | "
            f"{r['cache_length']} | {fmt(number(r['step_seconds']) if measured else None)} | "
            f"{fmt(number(r['projected_seconds']))} | {fmt(compute_term(r, rows))} | "
            f"{fmt(number(r['latency_term_seconds']))} | {fmt(number(r['bandwidth_term_seconds']))} | "
            f"{float(r['rounds']):.0f} | {megabytes(r):.0f} | {fmt(number(r['dealer_transfer_seconds']))} | "
            f"{fmt(number(r['dealer_wait_seconds']))} |")
    return lines


def seconds_of(r):
    return number(r["step_seconds"]) if r["measured"] == "true" else number(r["projected_seconds"])


def gain_table(rows):
    lines = ["| network | protocol | n | policy | step s | full step s | latency full/policy | comm. full/policy | "
             "dominant term (policy) | dominant term (full) |",
             "|---|---|---:|---|---:|---:|---:|---:|---|---|"]
    index = {(r["network"], r["measured"], r["protocol"], r["policy"], r["cache_length"]): r for r in rows}
    for r in sorted(rows, key=sort_key):
        if r["policy"] == "full":
            continue
        full = index.get((r["network"], r["measured"], r["protocol"], "full", r["cache_length"]))
        if full is None or seconds_of(r) is None or seconds_of(full) is None:
            continue
        lines.append(
            f"| {r['network']}{'' if r['measured'] == 'true' else ' (projected)'} | {r['protocol']} | "
            f"{r['cache_length']} | {r['policy']} | {seconds_of(r):.2f} | {seconds_of(full):.2f} | "
            f"{seconds_of(full) / seconds_of(r):.2f}x | {megabytes(full) / megabytes(r):.2f}x | "
            f"{dominant(r, rows)} | {dominant(full, rows)} |")
    return lines


def plot(rows, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    protocols = sorted({r["protocol"] for r in rows})
    fig, axes = plt.subplots(1, len(protocols), figsize=(6.5 * len(protocols), 4.8), squeeze=False)
    for ax, protocol in zip(axes[0], protocols):
        for policy in ["full", "mpcache"]:
            for network in sorted({r["network"] for r in rows}, key=network_rank):
                for measured, style in (("true", "-"), ("false", ":")):
                    pts = sorted((int(r["cache_length"]), seconds_of(r) if measured == "true" else number(r["projected_seconds"]))
                                 for r in rows if r["protocol"] == protocol and r["policy"] == policy
                                 and r["network"] == network and (r["measured"] == "true" or measured == "false"))
                    pts = [p for p in pts if p[1] is not None]
                    if not pts or (measured == "false" and network == "loopback"):
                        continue
                    ax.plot([p[0] for p in pts], [p[1] for p in pts], style, color=POLICY_STYLE.get(policy, "black"),
                            marker=NETWORK_MARKER.get(network, "x"),
                            label=f"{policy}, {network}{'' if measured == 'true' else ' projected'}")
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
        ax.set_xlabel("cached tokens n")
        ax.set_ylabel("decode step (s)")
        ax.set_title(f"{protocol}: GPT-2-small shape, one decode step")
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("results", nargs="+")
    parser.add_argument("--out", required=True)
    parser.add_argument("--project", nargs="*", default=[], choices=sorted(PROFILES),
                        help="add rows projected to these networks for loopback points not measured there")
    args = parser.parse_args()
    rows = read_rows(args.results)
    reproject(rows)
    rows += projected_rows(rows, args.project)
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "network_summary.md"), "w") as f:
        f.write("## Every point\n\n" + "\n".join(all_rows_table(rows)) + "\n\n")
        f.write("## Gain over the full cache, per network\n\n" + "\n".join(gain_table(rows)) + "\n")
    plot(rows, os.path.join(args.out, "network_latency.png"))
    print(f"wrote {args.out}/network_summary.md and network_latency.png ({len(rows)} rows)")


if __name__ == "__main__":
    main()
