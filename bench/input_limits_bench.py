#!/usr/bin/env python3
"""Time and memory to refuse hostile configuration input, against validating a normal file.

Each case runs ``kubeadm-py config validate --config FILE`` (and ``init --dry-run`` on a scratch
rootfs) as a child process; prints the median wall time, the child's peak RSS, and both as a ratio
to the same command on the sample v1beta4 configuration. Refusal is bounded when the ratios stay
near 1 whatever the input size (before the limits: a 50 MB clusterName ran over 60 s at 1.6 GB).

    .venv/bin/python bench/input_limits_bench.py [--runs N]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import use_bytecode_cache, warm_bytecode  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
HEAD = "apiVersion: kubeadm.k8s.io/v1beta4\nkind: ClusterConfiguration\n"


def _alias_bomb() -> str:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 9)]
    return HEAD + "\n".join(lines) + "\n"


CASES = {
    "sample v1beta4 (accepted)": lambda: (REPO / "tests/unit/config/data/v1beta4-full.yaml").read_text(),
    "50 MB clusterName": lambda: HEAD + "clusterName: " + "a" * 50_000_000 + "\n",
    "2,000,000 certSANs": lambda: (
        HEAD + "apiServer:\n  certSANs:\n" + "".join(f"  - a{i}\n" for i in range(2_000_000))
    ),
    "70 KB clusterName": lambda: HEAD + "clusterName: " + "a" * 70_000 + "\n",
    "20,000 certSANs (one line)": lambda: (
        HEAD + "apiServer:\n  certSANs: [" + ",".join(f"a{i}" for i in range(20_000)) + "]\n"
    ),
    "alias bomb (10**9 values)": _alias_bomb,
    "10,000 certSANs (accepted)": lambda: (
        HEAD + "apiServer:\n  certSANs: [" + ",".join(f"host-{i}.example.com" for i in range(10_000)) + "]\n"
    ),
}


def run(argv: list[str]) -> tuple[float, float]:
    """(seconds, peak RSS in MB) of one child process."""
    t = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, usage = os.wait4(proc.pid, 0)
    return time.perf_counter() - t, usage.ru_maxrss / 1024


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--write", nargs=2, metavar=("CASE", "PATH"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.write:  # in a child: a child forked from a parent holding 50 MB would count it in its RSS
        Path(args.write[1]).write_text(CASES[args.write[0]]())
        return 0
    use_bytecode_cache()
    warm_bytecode()
    py = [sys.executable, "-m", "kubeadm_py"]
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "root").mkdir()  # --rootfs must exist
        rows = []
        for name in CASES:
            path = Path(tmp) / "c.yaml"
            subprocess.run([sys.executable, __file__, "--write", name, str(path)], check=True)
            for label, words in (
                ("config validate", ["config", "validate", "--config", str(path)]),
                ("init --dry-run", ["init", "--dry-run", "--rootfs", f"{tmp}/root", "--config", str(path),
                                    "--ignore-preflight-errors=all", "--skip-phases", "addon"]),
            ):  # fmt: skip
                samples = [run(py + words) for _ in range(args.runs)]
                secs = statistics.median(s for s, _ in samples)
                rss = statistics.median(m for _, m in samples)
                rows.append((name, label, secs, rss, path.stat().st_size))
    base = {label: (s, m) for name, label, s, m, _ in rows if name.startswith("sample")}
    print(f"{'input':<30}{'command':<16}{'size MB':>9}{'median s':>10}{'ratio':>7}{'RSS MB':>8}{'ratio':>7}")
    for name, label, secs, rss, size in rows:
        bs, bm = base[label]
        times = f"{secs:>10.2f}{secs / bs:>7.2f}{rss:>8.0f}{rss / bm:>7.2f}"
        print(f"{name:<30}{label:<16}{size / 1e6:>9.1f}{times}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
