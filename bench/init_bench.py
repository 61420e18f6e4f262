"""Benchmark: `kubeadm-py init` versus the reference kubeadm v1.20.2 on the test bed, waiting excluded.

What is timed: the wall time of whole commands run in the node (process start-up included, the
same nsenter prefix for both tools), never the waiting for components. Two modes (``--mode``):

- ``phases``: one command per phase group, as `init phase ...`:
  node-local, on a fresh node: `certs all`, `kubeconfig all`, `etcd local`, `control-plane all`,
  `kubelet-start`; cluster-side: `upload-config all`, `upload-certs --upload-certs`,
  `mark-control-plane`, `bootstrap-token`, `addon all`;
- ``whole``: the same phases as two `init --config F --skip-phases=...` processes per tool (node-local,
  then cluster-side with `--upload-certs`), i.e. what one `init` costs with start-up paid once per
  part. Skipped in both tools: preflight (upstream's pulls images), wait-control-plane,
  kubelet-finalize; kubeadm-py also runs show-join-command (upstream prints the join command anyway).

Between the two parts, untimed: the node's kubelet starts the static Pods; the benchmark waits until
kube-apiserver answers /readyz and the Node object is registered (what `wait-control-plane` and the
node-waiting part of `mark-control-plane` would wait for).

Each repetition starts one fresh node per tool and mode (one node at a time, tool order alternating
between repetitions), so both tools do the same work: create everything, nothing pre-existing.
kubeadm-py reads a v1beta4 configuration and upstream kubeadm v1.20.2 the equivalent v1beta2 one
(tests/testbed/configs.py). Medians over the repetitions; ratios kubeadm-py / kubeadm per command,
per group (node-local, cluster-side) and in total, all measured in the same run.

Usage (root, test bed built with `bash testbed/build.sh`):
    .venv/bin/python bench/init_bench.py [--reps 3] [--mode phases|whole|both] [--json out.json]
        [--max-minutes 40]
Exits 0 with a "skipped:" line when not root or the test bed is missing. About 3 minutes per
repetition and mode; every node is stopped at the end.
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

# "whole" mode: the same work as two `init` invocations per tool, one process for the node-local
# phases and one for the cluster-side phases (plus, for kubeadm-py, show-join-command: upstream
# v1.20 prints the join command at the end of every init). Skipped in both: preflight (upstream's
# pulls images), wait-control-plane (waiting), kubelet-finalize (not in the compared set).
_CLUSTER_PHASES = "upload-config,upload-certs,mark-control-plane,bootstrap-token,addon"
_LOCAL_PHASES = "certs,kubeconfig,etcd,control-plane,kubelet-start"
WHOLE_LOCAL = ("init (node-local)", f"preflight,wait-control-plane,kubelet-finalize,{_CLUSTER_PHASES}")
WHOLE_CLUSTER = ("init (cluster-side)", f"preflight,wait-control-plane,kubelet-finalize,{_LOCAL_PHASES}")


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


def tool_argv(tool: str) -> list[str]:
    from tests.testbed import bin_path

    return [sys.executable, "-m", "kubeadm_py"] if tool == "kubeadm-py" else [bin_path("kubeadm")]


def argv_for(tool: str, phase: list[str], cfg: str) -> list[str]:
    return [*tool_argv(tool), "init", "phase", *phase, "--config", cfg]


def whole_argv(tool: str, skip: str, cfg: str) -> list[str]:
    extra = ["--upload-certs"] if skip == WHOLE_CLUSTER[1] else []
    return [*tool_argv(tool), "init", "--config", cfg, f"--skip-phases={skip}", *extra]


def plan(mode: str, tool: str, cfg: str) -> tuple[list[tuple[str, list[str]]], list[tuple[str, list[str]]]]:
    """(node-local, cluster-side) lists of (label, argv) for one init by ``tool``."""
    if mode == "whole":
        return (
            [(WHOLE_LOCAL[0], whole_argv(tool, WHOLE_LOCAL[1], cfg))],
            [(WHOLE_CLUSTER[0], whole_argv(tool, WHOLE_CLUSTER[1], cfg))],
        )
    return (
        [(label, argv_for(tool, phase, cfg)) for label, phase in LOCAL],
        [(label, argv_for(tool, phase, cfg)) for label, phase in CLUSTER],
    )


def wait_registered(node: Any, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while True:
        r = node.kubectl("get", "node", node.name, "-o", "name", check=False, timeout=20)
        if r.returncode == 0 and r.stdout.strip() == f"node/{node.name}":
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"node {node.name} did not register within {timeout:.0f}s: {r.stderr[-300:]}")
        time.sleep(1)


def one_run(mode: str, tool: str, rep: int, net: Any, deadline: float) -> dict[str, float]:
    """Every phase of one init by ``tool`` on a fresh node; returns seconds per timed command."""
    from tests.testbed import Node
    from tests.testbed.configs import init_config_v1beta2

    tag = f"{'py' if tool == 'kubeadm-py' else 'go'}{mode[0]}{rep}"
    node = Node(f"bench-{tag}", network=net, max_lifetime=900)
    times: dict[str, float] = {}
    ok = False
    try:
        node.start()
        cfg = os.path.join(node.workdir, "init.yaml")
        with open(cfg, "w") as f:
            if tool == "kubeadm-py":
                f.write(kubeadm_py_config(str(node.address), node.name))
            else:
                f.write(init_config_v1beta2(address=str(node.address), node_name=node.name))
        node.supervise_kubelet()
        env = {"PYTHONPATH": str(REPO)}
        local, cluster = plan(mode, tool, cfg)
        for label, argv in local:
            times[label] = timed(node, argv, env, deadline)
        node.wait_for_apiserver(timeout=max(30.0, min(300.0, deadline - time.monotonic())))
        wait_registered(node, timeout=max(30.0, min(240.0, deadline - time.monotonic())))
        for label, argv in cluster:
            times[label] = timed(node, argv, env, deadline)
        check_cluster(node)
        ok = True
    finally:
        kept = node.stop(keep_logs=not ok)
        if kept:
            print(f"  [{tool} {mode} rep {rep}] failed; node logs kept in {kept}", flush=True)
    return times


OUTPUT_DIR: str | None = None  # --keep-output: each command's stdout/stderr is saved there


def timed(node: Any, argv: list[str], env: dict[str, str], deadline: float) -> float:
    timeout = max(10.0, min(300.0, deadline - time.monotonic()))
    t = time.perf_counter()
    r = node.run(argv, env=env, timeout=timeout)
    dt = time.perf_counter() - t
    if OUTPUT_DIR:
        name = f"{node.name}-{time.monotonic_ns()}.log"
        with open(os.path.join(OUTPUT_DIR, name), "w") as f:
            f.write(f"$ {' '.join(argv)}\n# {dt:.3f}s\n{r.stdout}\n--- stderr\n{r.stderr}")
    return dt


# Objects both tools' cluster-side phases create: checked (untimed) after every run, so that a
# fast but incomplete run cannot pass for a fast one.
EXPECTED = [
    ("configmap", "-n", "kube-system", "kubeadm-config"),
    ("configmap", "-n", "kube-system", "kubelet-config-1.20"),
    ("configmap", "-n", "kube-system", "kube-proxy"),
    ("configmap", "-n", "kube-public", "cluster-info"),
    ("secret", "-n", "kube-system", "kubeadm-certs"),
    ("deployment", "-n", "kube-system", "coredns"),
    ("daemonset", "-n", "kube-system", "kube-proxy"),
    ("clusterrolebinding", "kubeadm:node-autoapprove-bootstrap"),
]


def check_cluster(node: Any) -> None:
    for obj in EXPECTED:
        node.kubectl("get", *obj, "-o", "name", timeout=30)
    labels = node.kubectl("get", "node", node.name, "-o", "jsonpath={.metadata.labels}", timeout=30).stdout
    if "node-role.kubernetes.io/master" not in labels:
        raise RuntimeError(f"node {node.name} is not marked as control plane: {labels}")
    tokens = node.kubectl("get", "secret", "-n", "kube-system", "-o", "name", timeout=30).stdout
    if "secret/bootstrap-token-" not in tokens:
        raise RuntimeError("no bootstrap token secret")


def summarize(mode: str, runs: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    rows: dict[str, dict[str, float]] = {}
    groups = {
        "node-local": [lbl for lbl, _ in LOCAL] if mode == "phases" else [WHOLE_LOCAL[0]],
        "cluster-side": [lbl for lbl, _ in CLUSTER] if mode == "phases" else [WHOLE_CLUSTER[0]],
    }
    groups["total"] = groups["node-local"] + groups["cluster-side"]
    for label in groups["total"]:
        med = {t: median([r[label] for r in runs[t]]) for t in TOOLS}
        rows[label] = {**med, "ratio": ratio(med["kubeadm-py"], med["kubeadm"])}
    for g, labels in groups.items():
        med = {t: median([sum(r[lbl] for lbl in labels) for r in runs[t]]) for t in TOOLS}
        rows[f"[{g}]"] = {**med, "ratio": ratio(med["kubeadm-py"], med["kubeadm"])}
    return rows


def report(mode: str, runs: dict[str, list[dict[str, float]]]) -> dict[str, Any]:
    rows = summarize(mode, runs)
    n = len(runs["kubeadm"])
    what = "one process per phase command" if mode == "phases" else "two `init --skip-phases` processes"
    print(f"\n== mode {mode} ({what}): kubeadm-py vs kubeadm v1.20.2, {n} reps, medians, waiting excluded")
    print(f"{'command':<22}{'kubeadm-py':>12}{'kubeadm':>10}{'ratio':>8}")
    for label, r in rows.items():
        if label == "[node-local]":
            print("-" * 52)
        print(f"{label:<22}{r['kubeadm-py']:>11.3f}s{r['kubeadm']:>9.3f}s{r['ratio']:>8.2f}")
    total = rows["[total]"]["ratio"]
    verdict = "meets" if total <= 1.0 else "MISSES"
    print(f"total ratio {total:.2f}: {verdict} the target (no slower than kubeadm)", flush=True)
    return {"reps": n, "runs": runs, "medians": rows}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--mode", choices=("phases", "whole", "both"), default="both")
    ap.add_argument("--json", default=None)
    ap.add_argument("--max-minutes", type=float, default=40.0, help="stop starting repetitions after this")
    ap.add_argument("--no-pycache", action="store_true", help="leave the bytecode cache settings alone")
    ap.add_argument("--keep-output", default=None, help="directory for every command's stdout/stderr")
    args = ap.parse_args()
    global OUTPUT_DIR
    if args.keep_output:
        os.makedirs(args.keep_output, exist_ok=True)
        OUTPUT_DIR = args.keep_output

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
    deadline = time.monotonic() + args.max_minutes * 60
    modes = ["phases", "whole"] if args.mode == "both" else [args.mode]
    runs = {m: {t: [] for t in TOOLS} for m in modes}  # type: dict[str, dict[str, list[dict[str, float]]]]
    net = Network(name="kpt-bench").start()
    try:
        for rep in range(args.reps):
            if time.monotonic() > deadline - 120 * len(modes):
                print(f"time budget reached after {rep} repetitions", flush=True)
                break
            for mode in modes:
                order = TOOLS if rep % 2 == 0 else TOOLS[::-1]
                pair = {tool: one_run(mode, tool, rep, net, deadline) for tool in order}
                for tool in TOOLS:
                    runs[mode][tool].append(pair[tool])
                tot = {t: sum(pair[t].values()) for t in TOOLS}
                print(
                    f"rep {rep} {mode}: kubeadm-py {tot['kubeadm-py']:.2f}s, kubeadm {tot['kubeadm']:.2f}s "
                    f"(ratio {ratio(tot['kubeadm-py'], tot['kubeadm']):.2f})",
                    flush=True,
                )
    finally:
        net.stop()
    if not all(runs[m]["kubeadm"] for m in modes):
        print("no complete repetition")
        return 1
    out = {mode: report(mode, runs[mode]) for mode in modes}
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
