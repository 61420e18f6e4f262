"""Benchmark: N joining nodes at once against ONE real Kubernetes v1.20.2 API server.

Each simulated node (a thread with its own connection pools, as separate machines would have) does
what ``kubeadm-py join`` + the kubelet do before the node can talk to the cluster:

1. token discovery: unverified read of kube-public/cluster-info, JWS check, CA pin check, verified
   re-read (kubeadm_py.discovery.discover);
2. TLS bootstrap: with the bootstrap token, create a CertificateSigningRequest for system:node:<name>
   and wait until the real controller-manager's csrapprover approves it and csrsigning issues the
   certificate (kubeadm_py.discovery.csr).

The control plane is etcd + kube-apiserver + kube-controller-manager started from kubeadm-py's own
init artifacts (tests/integration/test_join_apiserver.py RealControlPlane). For each N the script
prints p50/p99 of per-node discovery, CSR and total latency and the wall time of the whole wave.

Usage: .venv/bin/python bench/join_bench.py [--n 10,50,100] [--json out.json]
Needs /var/cache/kubeadm-py-testbed/bin/{kube-apiserver,kube-controller-manager} and etcd.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def pct(values: list[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, round(q / 100 * (len(s) - 1))))
    return s[k]


def one_node(endpoint: str, pin: str, token: str, name: str) -> dict[str, float]:
    from kubeadm_py.discovery.csr import request_node_certificate
    from kubeadm_py.discovery.discover import discover
    from kubeadm_py.effectors.discovery import HttpFetcher, client

    t0 = time.perf_counter()
    join = {
        "discovery": {
            "bootstrapToken": {"apiServerEndpoint": endpoint, "token": token, "caCertHashes": [pin]},
            "tlsBootstrapToken": token,
        }
    }
    d = discover(join, timeout=120, interval=0.5, fetcher=HttpFetcher())
    t1 = time.perf_counter()
    boot = client(d.cluster.server, d.cluster.ca_pem, d.tls_bootstrap_token, timeout=30)
    request_node_certificate(boot, name, timeout=300, interval=0.25)
    t2 = time.perf_counter()
    return {"discovery": t1 - t0, "csr": t2 - t1, "total": t2 - t0}


def wave(endpoint: str, pin: str, token: str, n: int, tag: str) -> dict[str, Any]:
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=n) as pool:
        futures = [pool.submit(one_node, endpoint, pin, token, f"bench-{tag}-{i}") for i in range(n)]
        results = [f.result() for f in futures]
    wall = time.perf_counter() - start
    out: dict[str, Any] = {"n": n, "wall_s": wall}
    for k in ("discovery", "csr", "total"):
        vals = [r[k] for r in results]
        out[k] = {"p50_s": pct(vals, 50), "p99_s": pct(vals, 99), "mean_s": statistics.fmean(vals)}
    return out


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", default="10,50,100")
    ap.add_argument("--json")
    args = ap.parse_args()
    from tests.integration.test_join_apiserver import SKIP_REASON, TOKEN, RealControlPlane, available

    if not available():
        print(f"skipped: {SKIP_REASON}")
        return 0
    from kubeadm_py.tokens.pubkeypin import hash_pem

    sizes = [int(x) for x in args.n.split(",") if x.strip()]
    with tempfile.TemporaryDirectory(prefix="join-bench-") as tmp:
        cp = RealControlPlane(Path(tmp))
        try:
            cp.start()
            signed = cp.wait_signed()
            pin = hash_pem(cp.ca_pem())
            print(f"control plane up on {cp.endpoint}; cluster-info signed {signed:.1f}s after the token")
            one_node(cp.endpoint, pin, TOKEN, "bench-warmup")
            rows = [wave(cp.endpoint, pin, TOKEN, n, str(n)) for n in sizes]
        finally:
            cp.stop()
    hdr = (
        f"{'N':>4} {'wall':>7} | {'disc p50':>8} {'p99':>7} | {'csr p50':>8} {'p99':>7} | "
        f"{'total p50':>9} {'p99':>7}"
    )
    print(hdr)
    print("-" * len(hdr))
    for r in rows:
        print(
            f"{r['n']:>4} {r['wall_s']:>6.2f}s | "
            f"{r['discovery']['p50_s']:>7.3f}s {r['discovery']['p99_s']:>6.3f}s | "
            f"{r['csr']['p50_s']:>7.3f}s {r['csr']['p99_s']:>6.3f}s | {r['total']['p50_s']:>8.3f}s "
            f"{r['total']['p99_s']:>6.3f}s"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
