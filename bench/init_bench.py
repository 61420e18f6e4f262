"""Benchmark: `kubeadm-py init` versus the reference kubeadm v1.20.2, phase by phase, on the test bed.

What is timed: the wall time of each `init phase ...` invocation (process start-up included, run in the
node with the same nsenter prefix for both tools), never the waiting for components:

- node-local phases, on a fresh node: `certs all`, `kubeconfig all`, `etcd local`, `control-plane all`,
  `kubelet-start`;
- then, untimed, the node's kubelet starts the static Pods; the benchmark waits until kube-apiserver
  answers /readyz and the Node object is registered (what `wait-control-plane` and the node-waiting
  part of `mark-control-plane` would wait for);
- cluster-side phases, against that cluster: `upload-config all`, `upload-certs --upload-certs`,
  `mark-control-plane`, `bootstrap-token`, `addon all`.

Each repetition starts one fresh node per tool (one at a time, tool order alternating between
repetitions), so both tools do the same work: create everything, nothing pre-existing. kubeadm-py reads
a v1beta4 configuration and upstream kubeadm v1.20.2 the equivalent v1beta2 one
(tests/testbed/configs.py). Medians over the repetitions; ratios kubeadm-py / kubeadm per phase,
per group (node-local, cluster-side) and in total, all measured in the same run.

Usage (root, test bed built with `bash testbed/build.sh`):
    .venv/bin/python bench/init_bench.py [--reps 3] [--json out.json] [--max-minutes 40]
Exits 0 with a "skipped:" line when not root or the test bed is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import median, ratio, use_bytecode_cache, warm_bytecode  # noqa: E402

LOCAL = [
    ("certs all", ["certs", "all"]),
    ("kubeconfig all", ["kubeconfig", "all"]),
    ("etcd local", ["etcd", "local"]),
    ("control-plane all", ["control-plane", "all"]),
    ("kubelet-start", ["kubelet-start"]),
]
CLUSTER = [
    ("upload-config all", ["upload-config", "all"]),
    ("upload-certs", ["upload-certs", "--upload-certs"]),
    ("mark-control-plane", ["mark-control-plane"]),
    ("bootstrap-token", ["bootstrap-token"]),
    ("addon all", ["addon", "all"]),
]
TOOLS = ("kubeadm-py", "kubeadm")


def kubeadm_py_config(address: str, name: str) -> str:
    from tests.testbed.configs import KUBE_PROXY_CONFIG, KUBELET_CONFIG

    return f"""apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: {address}
  bindPort: 6443
nodeRegistration:
  name: {name}
  criSocket: unix:///run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.20.2
imageRepository: k8s.gcr.io
networking:
  serviceSubnet: 10.96.0.0/12
---
{KUBELET_CONFIG}---
{KUBE_PROXY_CONFIG}"""


def argv_for(tool: str, phase: list[str], cfg: str) -> list[str]:
    from tests.testbed import bin_path

    if tool == "kubeadm-py":
        return [sys.executable, "-m", "kubeadm_py", "init", "phase", *phase, "--config", cfg]
    return [bin_path("kubeadm"), "init", "phase", *phase, "--config", cfg]


def wait_registered(node: Any, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while True:
        r = node.kubectl("get", "node", node.name, "-o", "name", check=False, timeout=20)
        if r.returncode == 0 and r.stdout.strip() == f"node/{node.name}":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"node {node.name} did not register within {timeout:.0f}s: {r.stderr[-300:]}")
        time.sleep(1)


def one_run(tool: str, rep: int, net: Any, deadline: float) -> dict[str, float]:
    """Every phase of one init by ``tool`` on a fresh node; returns seconds per phase."""
    from tests.testbed import Node
    from tests.testbed.configs import init_config_v1beta2

    node = Node(f"bench-{'py' if tool == 'kubeadm-py' else 'go'}{rep}", network=net, max_lifetime=900)
    times: dict[str, float] = {}
    ok = False
    try:
        node.start()
        cfg = os.path.join(node.workdir, "init.yaml")
        with open(cfg, "w") as f:
            if tool == "kubeadm-py":
                f.write(kubeadm_py_config(node.address, node.name))
            else:
                f.write(init_config_v1beta2(address=node.address, node_name=node.name))
        node.supervise_kubelet()
        env = {"PYTHONPATH": str(REPO)}
        for label, phase in LOCAL:
            times[label] = timed(node, argv_for(tool, phase, cfg), env, deadline)
        node.wait_for_apiserver(timeout=max(30.0, min(300.0, deadline - time.monotonic())))
        wait_registered(node, timeout=max(30.0, min(240.0, deadline - time.monotonic())))
        for label, phase in CLUSTER:
            times[label] = timed(node, argv_for(tool, phase, cfg), env, deadline)
        ok = True
    finally:
        kept = node.stop(keep_logs=not ok)
        if kept:
            print(f"  [{tool} rep {rep}] failed; node logs kept in {kept}", flush=True)
    return times


def timed(node: Any, argv: list[str], env: dict[str, str], deadline: float) -> float:
    timeout = max(10.0, min(300.0, deadline - time.monotonic()))
    t = time.perf_counter()
    node.run(argv, env=env, timeout=timeout)
    return time.perf_counter() - t


def summarize(runs: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    rows: dict[str, dict[str, float]] = {}
    groups = {
        "node-local": [lbl for lbl, _ in LOCAL],
        "cluster-side": [lbl for lbl, _ in CLUSTER],
    }
    groups["total"] = groups["node-local"] + groups["cluster-side"]
    for label in groups["total"]:
        med = {t: median([r[label] for r in runs[t]]) for t in TOOLS}
        rows[label] = {**med, "ratio": ratio(med["kubeadm-py"], med["kubeadm"])}
    for g, labels in groups.items():
        med = {t: median([sum(r[lbl] for lbl in labels) for r in runs[t]]) for t in TOOLS}
        rows[f"[{g}]"] = {**med, "ratio": ratio(med["kubeadm-py"], med["kubeadm"])}
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--json", default=None)
    ap.add_argument("--max-minutes", type=float, default=40.0, help="stop starting repetitions after this")
    ap.add_argument("--no-pycache", action="store_true", help="leave the bytecode cache settings alone")
    args = ap.parse_args()

    from tests.testbed import Network, skip_reason
    from tests.testbed.fixtures import cleanup_stale

    if os.geteuid() != 0:
        print("skipped: the test bed needs root")
        return 0
    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    print(use_bytecode_cache(not args.no_pycache), flush=True)
    warm_bytecode()
    cleanup_stale()
    start = time.monotonic()
    deadline = start + args.max_minutes * 60
    runs: dict[str, list[dict[str, float]]] = {t: [] for t in TOOLS}
    net = Network(name="kpt-bench").start()
    try:
        for rep in range(args.reps):
            if time.monotonic() > deadline - 120:
                print(f"time budget reached after {rep} repetitions", flush=True)
                break
            order = TOOLS if rep % 2 == 0 else TOOLS[::-1]
            pair: dict[str, dict[str, float]] = {}
            for tool in order:
                pair[tool] = one_run(tool, rep, net, deadline)
            for tool in TOOLS:
                runs[tool].append(pair[tool])
            tot = {t: sum(pair[t].values()) for t in TOOLS}
            print(
                f"rep {rep}: kubeadm-py {tot['kubeadm-py']:.2f}s, kubeadm {tot['kubeadm']:.2f}s "
                f"(ratio {ratio(tot['kubeadm-py'], tot['kubeadm']):.2f})",
                flush=True,
            )
    finally:
        net.stop()
    if not runs["kubeadm"]:
        print("no complete repetition")
        return 1
    rows = summarize(runs)
    n = len(runs["kubeadm"])
    print(f"\n== kubeadm-py init vs kubeadm v1.20.2 init, {n} repetitions, medians (waiting excluded)")
    print(f"{'phase':<22}{'kubeadm-py':>12}{'kubeadm':>10}{'ratio':>8}")
    for label, r in rows.items():
        if label == "[node-local]":
            print("-" * 52)
        print(f"{label:<22}{r['kubeadm-py']:>11.3f}s{r['kubeadm']:>9.3f}s{r['ratio']:>8.2f}")
    total = rows["[total]"]["ratio"]
    verdict = "meets" if total <= 1.0 else "MISSES"
    print(f"total ratio {total:.2f}: {verdict} the target (no slower than kubeadm)")
    if args.json:
        Path(args.json).write_text(json.dumps({"reps": n, "runs": runs, "medians": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
