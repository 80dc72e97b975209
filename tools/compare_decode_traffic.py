"""Compares the bytes and rounds of decode-bench result folders pairwise: per operator class
(decode_profile.csv) and per step (decode_steps.csv). A refactoring that must not change the
protocol shows "ALL IDENTICAL"; times are not compared.

    python3 tools/compare_decode_traffic.py BEFORE_DIR AFTER_DIR [BEFORE_DIR AFTER_DIR ...]
"""
import csv
import sys


def keyed_rows(path, key):
    with open(path) as f:
        return {tuple(row[k] for k in key): row for row in csv.DictReader(f)}


def traffic_columns(header):
    return [c for c in header
            if ("bytes" in c or "rounds" in c or c in ("cached_rows", "tokens_matching_plaintext"))
            and not c.startswith(("peak_rss", "necessary"))]


def same_traffic(before, after, name, key):
    a, b = keyed_rows(f"{before}/{name}", key), keyed_rows(f"{after}/{name}", key)
    if a.keys() != b.keys():
        print(f"  {name}: rows differ: {sorted(a.keys() ^ b.keys())}")
        return False
    columns = traffic_columns(next(iter(a.values())).keys())
    differences = [(k, c, a[k][c], b[k][c]) for k in a for c in columns if a[k][c] != b[k][c]]
    for d in differences:
        print("  DIFF", *d)
    print(f"  {name}: {len(a)} rows x {len(columns)} traffic columns: "
          + ("identical" if not differences else f"{len(differences)} differences"))
    return not differences


def main(folders):
    if len(folders) < 2 or len(folders) % 2:
        sys.exit(__doc__)
    ok = True
    for before, after in zip(folders[::2], folders[1::2]):
        print(f"{before} vs {after}")
        ok &= same_traffic(before, after, "decode_profile.csv", ("protocol", "policy", "cache_length", "operator_class"))
        ok &= same_traffic(before, after, "decode_steps.csv", ("network", "protocol", "policy", "cache_length"))
    print("ALL IDENTICAL" if ok else "DIFFERENCES FOUND")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main(sys.argv[1:])
