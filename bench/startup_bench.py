#!/usr/bin/env python3
"""Start-up time of the CLI against a bare interpreter, measured in one run.

Prints the median wall time of `python -c pass`, `kubeadm-py version` and `kubeadm-py --help`
(each run as `python -m kubeadm_py ...` with the same interpreter), and each command's overhead
above the bare interpreter. Target (foundation issue): under 150 ms above bare start-up.

    .venv/bin/python bench/startup_bench.py [--runs N] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

TARGET_MS = 150.0


def median_ms(argv: list[str], runs: int, cwd: str | None = None) -> float:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True, cwd=cwd)
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=21)
    ap.add_argument(
        "--baseline",
        default=None,
        help="another kubeadm-py source tree: its commands are timed too (rows 'baseline: ...')",
    )
    args = ap.parse_args()
    py = sys.executable
    commands = {"version": ["version"], "--help": ["--help"], "init --help": ["init", "--help"]}
    cases: dict[str, tuple[list[str], str | None]] = {"python -c pass": ([py, "-c", "pass"], None)}
    trees = {"kubeadm-py": None} | ({"baseline: kubeadm-py": args.baseline} if args.baseline else {})
    for label, tree in trees.items():
        for name, words in commands.items():
            # python -m kubeadm_py imports the package of its working directory
            cases[f"{label} {name}"] = ([py, "-m", "kubeadm_py", *words], tree)
    # Interleave warm-up so that file-system caches are equally warm for all cases.
    for argv, cwd in cases.values():
        median_ms(argv, 2, cwd)
    results = {name: median_ms(argv, args.runs, cwd) for name, (argv, cwd) in cases.items()}
    base = results["python -c pass"]
    print(f"{'command':<34}{'median ms':>10}{'above bare':>12}{'ratio':>8}")
    for name, ms in results.items():
        print(f"{name:<34}{ms:>10.1f}{ms - base:>12.1f}{ms / base:>8.2f}")
    worst = max(results["kubeadm-py version"], results["kubeadm-py --help"]) - base
    verdict = "within" if worst < TARGET_MS else "OVER"
    print(f"version/--help overhead {worst:.1f} ms: {verdict} the {TARGET_MS:.0f} ms target")
    return 0


if __name__ == "__main__":
    sys.exit(main())
