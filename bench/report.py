#!/usr/bin/python3
"""Turn the "result key=value ..." lines of jvae-bench and torch_jointvae.py into
the table of bench/README.md, with the targets checked.

usage: report.py RESULTS_FILE   (the lines bench/run.sh collected)
"""
import shlex
import statistics
import sys

SIDES = ("ours", "torch", "torch+jemalloc")
# Targets of the project (bench/README.md): training speed-up over PyTorch for
# A and B per thread count, encode speed-up, peak RSS of training A.
TRAIN_TARGET = {1: 2.0, 2: 3.0}
ENCODE_TARGET = 1.5
RSS_TARGET_MB_A = 60.0


def parse(path):
    rows = []
    with open(path) as lines:
        for line in lines:
            if not line.startswith("result "):
                continue
            fields = {}
            for token in shlex.split(line)[1:]:
                key, _, value = token.partition("=")
                fields[key] = value
            rows.append(fields)
    return rows


def number(row, key):
    try:
        return float(row[key])
    except (KeyError, TypeError, ValueError):
        return None


def median_of(rows, key):
    """Median of a field over the repeated measurements of one cell (None if absent)."""
    values = [v for v in (number(r, key) for r in rows) if v is not None]
    return statistics.median(values) if values else None


def fmt(value, digits=0):
    return "-" if value is None else f"{value:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    rows = parse(sys.argv[1])
    sgemm_rows = {}
    table = {}  # (config, threads, side, mode) -> the rows of every round
    for r in rows:
        if r.get("mode") == "sgemm":
            sgemm_rows.setdefault(int(r["threads"]), []).append(r)
        elif r.get("mode") in ("train", "encode"):
            table.setdefault((r["config"], int(r["threads"]), r["side"], r["mode"]), []).append(r)
    sgemm = {t: median_of(rs, "gflops") for t, rs in sgemm_rows.items()}
    sgemm_cpu = {t: median_of(rs, "gflops_per_cpu_s") for t, rs in sgemm_rows.items()}
    rounds = max((len(rs) for rs in table.values()), default=0)
    configs = sorted({key[0] for key in table})
    threads_list = sorted({key[1] for key in table})

    def get(config, threads, side, mode, key):
        return median_of(table.get((config, threads, side, mode), []), key)

    versions = {r["side"]: r.get("version") or r.get("torch") for r in rows
                if r.get("mode") == "train"}
    print(f"libjointvae {versions.get('ours', '?')}, torch {versions.get('torch', '?')}"
          + (f"; median of {rounds} rounds" if rounds > 1 else ""))
    print()
    header = ("cfg thr | train img/s: ours  torch  t+jem | ours/torch ours/t+jem | "
              "encode img/s: ours  torch  t+jem | ours/torch ours/t+jem | "
              "peak RSS MB: ours torch t+jem | ours GFLOP/s  % sgemm")
    print(header)
    print("-" * len(header))
    checks = []  # (name, [vs torch, vs torch+jemalloc], minimum ratio)
    rss_checks = []  # (name, MB)
    busy = []
    for threads in threads_list:
        for config in configs:
            train = [get(config, threads, s, "train", "img_per_s") for s in SIDES]
            encode = [get(config, threads, s, "encode", "img_per_s") for s in SIDES]
            rss = [get(config, threads, s, "train", "peak_rss_kb") for s in SIDES]
            rss = [None if kb is None else kb / 1024.0 for kb in rss]
            gflops = get(config, threads, "ours", "train", "gflops")
            ceiling = sgemm.get(threads)
            percent = None if gflops is None or not ceiling else 100.0 * gflops / ceiling
            train_ratios = [ratio(train[0], train[1]), ratio(train[0], train[2])]
            encode_ratios = [ratio(encode[0], encode[1]), ratio(encode[0], encode[2])]
            print(f"{config:>3} {threads:>3} | {fmt(train[0]):>17} {fmt(train[1]):>6} "
                  f"{fmt(train[2]):>6} | {fmt(train_ratios[0], 2):>10} "
                  f"{fmt(train_ratios[1], 2):>10} | {fmt(encode[0]):>18} {fmt(encode[1]):>6} "
                  f"{fmt(encode[2]):>6} | {fmt(encode_ratios[0], 2):>10} "
                  f"{fmt(encode_ratios[1], 2):>10} | {fmt(rss[0]):>16} {fmt(rss[1]):>5} "
                  f"{fmt(rss[2]):>5} | {fmt(gflops, 1):>12} {fmt(percent, 0):>8}")
            if config in ("A", "B") and threads in TRAIN_TARGET:
                target = TRAIN_TARGET[threads]
                checks.append((f"train {config} {threads} thr >= {target:g}x", train_ratios,
                               target))
            checks.append((f"encode {config} {threads} thr >= {ENCODE_TARGET:g}x", encode_ratios,
                           ENCODE_TARGET))
            if config == "A" and rss[0] is not None:
                rss_checks.append((f"peak RSS train A {threads} thr <= {RSS_TARGET_MB_A:g} MB",
                                   rss[0]))
            for side in SIDES:
                for mode in ("train", "encode"):
                    util = get(config, threads, side, mode, "cpu_util")
                    # A single-threaded run that got < 90 % of a core was
                    # sharing its core with another process.
                    if util is not None and threads == 1 and util < 0.9:
                        busy.append(f"{side} {mode} {config}: {util:.2f}")
    if 1 in threads_list:
        # Per CPU-second figures of the single-threaded runs: preemption by other
        # processes does not count against them, so they stay comparable when the
        # machine is busy (two-threaded runs cannot be read this way: spinning
        # OpenMP and OpenBLAS threads burn CPU time without progress).
        print()
        print("1 thread, images per CPU-second (robust to load from other processes):")
        print("cfg | train: ours  torch  t+jem  ours/torch ours/t+jem | "
              "encode: ours  torch  t+jem  ours/torch ours/t+jem")
        for config in configs:
            train = [get(config, 1, s, "train", "img_per_cpu_s") for s in SIDES]
            encode = [get(config, 1, s, "encode", "img_per_cpu_s") for s in SIDES]
            print(f"{config:>3} | {fmt(train[0]):>11} {fmt(train[1]):>6} {fmt(train[2]):>6} "
                  f"{fmt(ratio(train[0], train[1]), 2):>11} {fmt(ratio(train[0], train[2]), 2):>10}"
                  f" | {fmt(encode[0]):>12} {fmt(encode[1]):>6} {fmt(encode[2]):>6} "
                  f"{fmt(ratio(encode[0], encode[1]), 2):>11} "
                  f"{fmt(ratio(encode[0], encode[2]), 2):>10}")
    print()
    for threads in threads_list:
        print(f"sgemm 1024^3 ceiling at {threads} thread(s): {fmt(sgemm.get(threads), 1)} GFLOP/s "
              f"({fmt(sgemm_cpu.get(threads), 1)} per CPU-second)")
    print()
    print("targets (ours vs torch, vs torch+jemalloc):")
    for name, values, target in checks:
        marks = ["?" if v is None else ("met" if v >= target else "NOT met") for v in values]
        print(f"  {name:<32} {fmt(values[0], 2):>5} ({marks[0]}), "
              f"{fmt(values[1], 2):>5} ({marks[1]})")
    for name, megabytes in rss_checks:
        mark = "met" if megabytes <= RSS_TARGET_MB_A else "NOT met"
        print(f"  {name:<32} {megabytes:.1f} MB ({mark})")
    if busy:
        print()
        print("warning: single-threaded runs that got less than 90 % of a core (the machine "
              "was busy; re-run when it is idle):")
        for item in busy:
            print(f"  {item}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
