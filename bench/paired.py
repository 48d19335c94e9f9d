#!/usr/bin/python3
"""Paired speed ratios of libjointvae against PyTorch, windows turn about.

usage: bench/paired.py [--configs "A B"] [--threads "1 2"] [--modes "train encode"]
                       [--rounds 15] [--window 0.5] [BUILD_DIR]

Why: bench/run.sh measures each side for seconds, one process after the
other, and on the shared machine this project is measured on a cell moves by
up to 25 % between runs minutes apart (PyTorch training A at 1 thread: 628
and 780 img/s), so a ratio near a target cannot be read from it. Here one
`jvae-bench serve` and one `torch_jointvae.py serve` process (and one more
with jemalloc preloaded, if Debian's libjemalloc2 is there) stay up for a
configuration and thread count, each with its model and data ready, and are
asked for windows of work turn about, the order rotating every round; each
round gives the ratio ours/theirs of windows a second apart, and the median
of those ratios (with its quartiles) is the figure, as jvae-ab does for two
builds of our own. Run with Debian's /usr/bin/python3; it imports nothing
but the standard library (torch runs in the child processes).

Environment as in run.sh: OPENBLAS_CORETYPE (default Haswell), OpenBLAS at
one thread on both sides, OMP_NUM_THREADS = the thread count.
"""
import argparse
import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"
JEMALLOC_CONF = "oversize_threshold:0,dirty_decay_ms:-1,muzzy_decay_ms:-1"
PAUSE_S = 0.05  # between windows: the idle side's spinning threads go to sleep


class Side:
    """One serving process: start it, wait for "ready", time windows."""

    def __init__(self, name, argv, env):
        self.name = name
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     env=env, text=True, bufsize=1)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"{name}: did not start ({line.strip() or 'no output'})")

    def window(self, mode, seconds):
        self.proc.stdin.write(f"{mode} {seconds}\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        fields = dict(item.split("=", 1) for item in line.split()[1:])
        if not line.startswith("window") or fields.get("mode") != mode:
            raise RuntimeError(f"{self.name}: bad answer {line.strip()!r}")
        return float(fields["img_per_s"])

    def close(self):
        self.proc.stdin.close()
        self.proc.wait(timeout=60)


def quartiles(values):
    ordered = sorted(values)
    n = len(ordered)
    return ordered[n // 4], statistics.median(ordered), ordered[(3 * n) // 4]


def measure(sides, mode, rounds, window):
    """Windows of every side, the first side rotating each round; returns
    the rates of each side and, for every other side, ours/theirs ratios."""
    for side in sides:  # warm up: caches, allocator pools, OpenMP teams
        side.window(mode, window)
    rates = {side.name: [] for side in sides}
    for r in range(rounds):
        order = sides[r % len(sides):] + sides[:r % len(sides)]
        round_rates = {}
        for side in order:
            time.sleep(PAUSE_S)
            round_rates[side.name] = side.window(mode, window)
        for name, rate in round_rates.items():
            rates[name].append(rate)
    ours = rates[sides[0].name]
    ratios = {side.name: [o / t for o, t in zip(ours, rates[side.name])] for side in sides[1:]}
    return rates, ratios


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("build", nargs="?", default=os.path.join(HERE, "..", "build", "bench"))
    parser.add_argument("--configs", default="A B")
    parser.add_argument("--threads", default="1 2")
    parser.add_argument("--modes", default="train encode")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--window", type=float, default=0.5)
    args = parser.parse_args()
    bench = os.path.join(args.build, "bench", "jvae-bench")
    if not os.access(bench, os.X_OK):
        sys.exit(f"paired.py: {bench} not found; build the jvae-bench target first")
    if args.rounds < 4:
        sys.exit("paired.py: --rounds must be at least 4 (for quartiles)")

    base = dict(os.environ)
    base.setdefault("OPENBLAS_CORETYPE", "Haswell")
    base["OPENBLAS_NUM_THREADS"] = "1"
    print(f"# paired: {args.rounds} rounds of {args.window} s windows per side, "
          f"OPENBLAS_CORETYPE={base['OPENBLAS_CORETYPE']}, load before "
          f"{' '.join(open('/proc/loadavg').read().split()[:3])}")
    print("cfg thr mode   | img/s:  ours    torch    t+jem | ours/torch [q1-q3] "
          "| ours/t+jem [q1-q3]")
    for config in args.configs.split():
        for threads in args.threads.split():
            env = dict(base, OMP_NUM_THREADS=threads)
            torch_argv = ["/usr/bin/python3", os.path.join(HERE, "torch_jointvae.py"), "serve",
                          "--config", config, "--threads", threads]
            sides = [Side("ours", [bench, "serve", "--config", config, "--threads", threads],
                          env),
                     Side("torch", torch_argv, env)]
            if os.access(JEMALLOC, os.R_OK):
                jem_env = dict(env, LD_PRELOAD=JEMALLOC, MALLOC_CONF=JEMALLOC_CONF)
                sides.append(Side("t+jem", torch_argv + ["--label", "torch+jemalloc"],
                                  jem_env))
            try:
                for mode in args.modes.split():
                    rates, ratios = measure(sides, mode, args.rounds, args.window)
                    medians = [statistics.median(rates[side.name]) for side in sides]
                    cells = " ".join(f"{m:8.0f}" for m in medians)
                    spans = " | ".join(
                        "{1:5.2f} [{0:.2f}-{2:.2f}]".format(*quartiles(ratios[side.name]))
                        for side in sides[1:])
                    print(f"  {config}   {threads} {mode:6} |     {cells} | {spans}", flush=True)
            finally:
                for side in sides:
                    side.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
