"""Benchmark: how long after a control-plane component's first crash does ``init`` give up?

The fault (issue 17): the API server gets ``--audit-policy-file`` naming a file that exists in its
container but is no audit policy (the cluster CA certificate), so kube-apiserver exits at start and
the kubelet restarts it with back-off. Each tool runs ``init`` on a fresh test-bed node (v1.20.2
kubelet, containerd); a thread reads the node's runtime through the CRI and takes the first
kube-apiserver exit's ``finished_at`` as the runtime reports it. Printed per tool: the time from that
first crash to the command's exit, the whole command, and what the tool said.

* kubeadm-py watches the containers while it waits (``kubeadm_py/effectors/watch.py``) and stops
  once the API server has exited twice;
* kubeadm v1.20.2 (the old behaviour, which kubeadm-py had too) waits for the API server's health
  until its 4m0s timeout and says "timed out waiting for the condition".

``--fault missing-image`` instead: a patch makes the kube-apiserver manifest name an image tag that
does not exist (nothing can be pulled on the test bed), so its container is never created; printed
per tool: the time from the manifest being written (its mtime on the node) to the command's exit.
kubeadm-py asks the runtime for the image and pulls it itself (``effectors/watch_create.py``);
kubeadm v1.20.2 (``--experimental-patches``) waits until its timeout.

Usage: sudo .venv/bin/python bench/failfast.py [--tools kubeadm-py,kubeadm]
[--fault audit-policy|missing-image] [--json out.json]
Needs root and the test bed (testbed/build.sh); otherwise prints ``skipped: ...`` and exits 0.
Each tool's run takes one node: kubeadm-py ~1-2 min, kubeadm ~5-6 min."""

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

FAULT = "/etc/kubernetes/pki/ca.crt"  # exists in the container (the pki volume), is no audit policy
MISSING_IMAGE = "k8s.gcr.io/kube-apiserver:v1.20.2-no-such-tag"
MANIFEST = "/etc/kubernetes/manifests/kube-apiserver.yaml"


def _patches(node: Any) -> str:
    """A patch directory whose kube-apiserver patch names an image that does not exist."""
    path = os.path.join(node.workdir, "patches")
    os.makedirs(path, exist_ok=True)
    op = [{"op": "replace", "path": "/spec/containers/0/image", "value": MISSING_IMAGE}]
    Path(path, "kube-apiserver+json.json").write_text(json.dumps(op))
    return path


def _config(tool: str, node: Any, fault: str) -> str:
    import yaml

    from tests.testbed.configs import init_config_v1beta2, init_config_v1beta4

    bad_policy = fault == "audit-policy"
    if tool == "kubeadm":  # v1beta2 has no patches field: --experimental-patches, allowed with --config
        extra = f"apiServer:\n  extraArgs:\n    audit-policy-file: {FAULT}\n" if bad_policy else ""
        text = init_config_v1beta2(node.address, node.name, extra_cluster_yaml=extra)
    else:
        docs = list(yaml.safe_load_all(init_config_v1beta4(node.address, node.name)))
        for d in docs:
            if bad_policy and d.get("kind") == "ClusterConfiguration":
                d.setdefault("apiServer", {})["extraArgs"] = [{"name": "audit-policy-file", "value": FAULT}]
            if not bad_policy and d.get("kind") == "InitConfiguration":
                d["patches"] = {"directory": _patches(node)}
        text = yaml.safe_dump_all(docs)
    path = os.path.join(node.workdir, f"{tool}.yaml")
    Path(path).write_text(text)
    return path


def run_one(tool: str, fault: str = "audit-policy") -> dict[str, Any]:
    from tests.testbed import Network, Node, bin_path
    from tests.testbed.crashwatch import FirstCrash
    from tests.testbed.fixtures import cleanup_stale_cgroups

    cleanup_stale_cgroups()
    net = Network(name="kpt-ffb").start()
    node = Node(f"ffb-{tool}", network=net)
    try:
        node.start()
        node.supervise_kubelet()
        cfg = _config(tool, node, fault)
        if tool == "kubeadm":
            argv = [bin_path("kubeadm"), "init", "--config", cfg, "--ignore-preflight-errors=all"]
            if fault == "missing-image":
                argv += ["--experimental-patches", _patches(node)]
            env = None
        else:
            argv = [
                sys.executable,
                "-m",
                "kubeadm_py",
                "init",
                "--config",
                cfg,
                "--ignore-preflight-errors=all",
            ]
            env = {"PYTHONPATH": str(REPO)}
        t0 = time.monotonic()
        with FirstCrash(node, "kube-apiserver") as crash:
            r = node.run(argv, env=env, timeout=900, check=False)
            ended = time.time()
        total = time.monotonic() - t0
        said = [line for line in (r.stderr + r.stdout).splitlines() if line.strip()]
        manifest = node.path(MANIFEST)
        written = os.stat(manifest).st_mtime if os.path.exists(manifest) else None
        return {
            "tool": tool,
            "fault": fault,
            "seconds_after_manifest": round(ended - written, 1) if written else None,
            "exit_code": r.returncode,
            "seconds_total": round(total, 1),
            "seconds_after_first_crash": round(ended - crash.first_exit, 1) if crash.first_exit else None,
            "apiserver_exits_seen": len(crash.exits),
            "last_words": said[-1][:300] if said else "",
        }
    finally:
        node.stop()
        net.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tools", default="kubeadm-py,kubeadm")
    ap.add_argument("--fault", choices=("audit-policy", "missing-image"), default="audit-policy")
    ap.add_argument("--json")
    args = ap.parse_args()
    from tests.testbed import skip_reason

    reason = skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    results = [run_one(t, args.fault) for t in args.tools.split(",") if t]
    key, what = (
        ("seconds_after_manifest", "manifest written")
        if args.fault == "missing-image"
        else ("seconds_after_first_crash", "first crash")
    )
    for res in results:
        print(
            f"{res['tool']:<11} exit {res['exit_code']}  "
            f"{what} -> exit {res[key]}s  "
            f"(command {res['seconds_total']}s, {res['apiserver_exits_seen']} kube-apiserver exits seen)\n"
            f"            said: {res['last_words']}"
        )
    by = {r["tool"]: r for r in results}
    if {"kubeadm-py", "kubeadm"} <= by.keys():
        a, b = by["kubeadm"][key], by["kubeadm-py"][key]
        if a and b:
            print(f"ratio kubeadm / kubeadm-py ({what} -> exit): {a / b:.1f}x")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
