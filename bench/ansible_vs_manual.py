"""Benchmark: a four-node cluster (two control planes, two workers) built by the kubeadm_py.cluster
collection's ``cluster.yml`` beside the same steps run by hand with ``kubeadm-py`` over SSH, in one
run, on the same test-bed nodes (tests/integration/ansible_bed.py: real kubelets and containerd,
Debian's sshd in each node, the controller in the bridge's network namespace).

By hand means what an operator types, each command over ``ssh root@node``: ``kubeadm-py init`` on
the first control plane (``-o json`` for the CA hash and certificate key), ``kubeadm-py join
--control-plane`` on the second, then both workers' ``kubeadm-py join`` at once (two shells), then
``kubeadm-py verify``.
The playbook does the same with its modules (plus its own bookkeeping: facts it passes between
plays, the second control plane joined serially, verify waiting). Between the two sides every node
is reset (``reset.yml``, not timed; not after the last build); the order alternates per
repetition.

Usage: sudo .venv/bin/python bench/ansible_vs_manual.py [--reps 1] [--json out.json]
Needs root, the test bed (testbed/build.sh), ansible-core and openssh-server (install.sh --dev);
otherwise prints ``skipped: ...`` and exits 0. About 11 minutes for one repetition.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

SSH_OPTS = ["-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR"]


def ssh(bed: Any, node: Any, command: str, timeout: float = 900) -> str:
    """Run ``command`` on ``node`` over SSH from the hub (as an operator's shell would)."""
    key = os.path.join(bed.tmp, "id_ed25519")
    argv = [
        "nsenter",
        "-t",
        str(bed.net.pid),
        "-n",
        "ssh",
        *SSH_OPTS,
        "-i",
        key,
        f"root@{node.address}",
        command,
    ]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(
            f"{node.name}: {command}: exit {r.returncode}\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
        )
    return r.stdout


def by_hand(bed: Any) -> float:
    from tests.integration.ansible_bed import CRI, TOKEN

    cp1, cp2, w1, w2 = (bed.node(i) for i in range(4))
    common = f"--cri-socket {CRI} --ignore-preflight-errors=all"
    t0 = time.monotonic()
    init = f"kubeadm-py init --config {cp1.workdir}/init.yaml --upload-certs {common.split()[-1]} -o json"
    out = json.loads(ssh(bed, cp1, init))["outputs"]  # the CA hash and the generated certificate key
    pin = out["ca_cert_hash"]
    join = f"kubeadm-py join {out['endpoint']} --token {TOKEN} --discovery-token-ca-cert-hash {pin}"
    ssh(bed, cp2, f"{join} --control-plane --certificate-key {out['certificate_key']} "
                  f"--apiserver-advertise-address {cp2.address} --node-name {cp2.name} {common}")  # fmt: skip
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(lambda w: ssh(bed, w, f"{join} --node-name {w.name} {common}"), (w1, w2)))
    ssh(bed, cp1, "kubeadm-py verify --cluster --wait 240s")
    return time.monotonic() - t0


def with_playbook(bed: Any) -> float:
    r = bed.playbook("cluster")
    if r.rc != 0:
        raise RuntimeError("cluster.yml failed:\n" + r.stdout[-4000:])
    return r.seconds


def reset(bed: Any) -> None:
    r = bed.playbook("reset")
    if r.rc != 0:
        raise RuntimeError("reset.yml failed:\n" + r.stdout[-4000:])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=1)
    ap.add_argument("--json", help="write the timings here")
    args = ap.parse_args()
    from tests.integration import ansible_bed

    reason = ansible_bed.skip_reason()
    if reason:
        print(f"skipped: {reason}")
        return 0
    times: dict[str, list[float]] = {"playbook": [], "by hand": []}
    order = [("playbook", with_playbook), ("by hand", by_hand)]
    runs = [(rep, *side) for rep in range(args.reps) for side in (order if rep % 2 == 0 else order[::-1])]
    with ansible_bed.bed() as bed:
        for i, (rep, name, fn) in enumerate(runs):
            if i:  # the nodes are stopped after the last run: no reset needed there
                reset(bed)
            secs = fn(bed)
            times[name].append(secs)
            print(f"rep {rep + 1}: {name:9} {secs:6.1f} s", flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    ratio = med["playbook"] / med["by hand"]
    print(f"\nfour-node cluster, median of {args.reps}: playbook {med['playbook']:.1f} s, "
          f"by hand {med['by hand']:.1f} s, ratio playbook/by hand {ratio:.2f}")  # fmt: skip
    if args.json:
        Path(args.json).write_text(json.dumps({"seconds": times, "median": med}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
