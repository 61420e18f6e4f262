"""Benchmark: `init phase certs all` versus the key-generation floor and the reference kubeadm.

For each algorithm (RSA-2048, ECDSA-P256), in the same run and interleaved round by round:
- floor/in-process: generate the same number of keys with cryptography in this process;
- floor/process: a fresh `python -c` that imports cryptography and generates those keys;
- library: kubeadm_py.pki.manager.create_pki in this process (a fresh rootfs each time);
- library/process: a fresh Python process running create_pki (start-up and imports included);
- command: `python -m kubeadm_py init phase certs all --rootfs D --config F` (the whole command);
- kubeadm: the reference kubeadm v1.20.2 (test-bed cache, or --kubeadm PATH) running
  `init phase certs all --config F` with a v1beta2 config whose certificatesDir is a fresh temp dir.
  kubeadm v1.20 only has RSA-2048: the ECDSA rows compare against its RSA run (labelled so).
Medians and ratios are printed (and written as JSON with --json), plus the issue's targets: the
RSA-2048 command within 1.15x of the in-process floor, the ECDSA-P256 command under 0.3 s, and
no slower than kubeadm. The kubeadm-py processes run with a warm bytecode cache (bench/_common.py).

Usage: .venv/bin/python bench/certs_bench.py [--reps 15] [--json out.json] [--kubeadm PATH] [--baseline DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from _common import use_bytecode_cache, warm_bytecode  # noqa: E402

RSA_FLOOR_TARGET = 1.15  # x the in-process key-generation floor, RSA-2048 whole command
ECDSA_TARGET_S = 0.3  # whole command, ECDSA-P256

UPSTREAM_CONFIG = """apiVersion: kubeadm.k8s.io/v1beta2
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 10.0.0.1
  bindPort: 6443
nodeRegistration:
  name: node1
  criSocket: /run/containerd/containerd.sock
---
apiVersion: kubeadm.k8s.io/v1beta2
kind: ClusterConfiguration
kubernetesVersion: v1.20.2
certificatesDir: {cert_dir}
"""

CONFIG = """apiVersion: kubeadm.k8s.io/v1beta4
kind: InitConfiguration
localAPIEndpoint:
  advertiseAddress: 10.0.0.1
  bindPort: 6443
nodeRegistration:
  name: node1
---
apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
encryptionAlgorithm: {alg}
"""

FLOOR = """
import sys
from cryptography.hazmat.primitives.asymmetric import ec, rsa
alg, n = sys.argv[1], int(sys.argv[2])
for _ in range(n):
    if alg.startswith("RSA"):
        rsa.generate_private_key(public_exponent=65537, key_size=int(alg[4:]))
    else:
        ec.generate_private_key({"ECDSA-P256": ec.SECP256R1, "ECDSA-P384": ec.SECP384R1}[alg]())
"""

LIBRARY = """
import sys
from pathlib import Path
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki.manager import create_pki
cluster = {"networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
           "certificatesDir": "/etc/kubernetes/pki", "etcd": {"local": {}},
           "encryptionAlgorithm": sys.argv[1]}
init = {"localAPIEndpoint": {"advertiseAddress": "10.0.0.1", "bindPort": 6443},
        "nodeRegistration": {"name": "node1"}}
Path(sys.argv[2]).mkdir(parents=True, exist_ok=True)  # --rootfs must exist
create_pki(HostFS(rootfs=sys.argv[2]), KubeadmConfig(cluster=cluster, init=init))
"""


def targets(alg: str, med: dict[str, float], floor: float) -> dict[str, str]:
    out: dict[str, str] = {}
    cmd = med.get("command")
    if cmd is None:
        return out
    if alg == "RSA-2048":
        r = cmd / floor
        ok = "met" if r <= RSA_FLOOR_TARGET else "MISSED"
        out["floor"] = f"command x{r:.2f} of the in-process floor (target <= x{RSA_FLOOR_TARGET}): {ok}"
    if alg.startswith("ECDSA"):
        ok = "met" if cmd < ECDSA_TARGET_S else "MISSED"
        out["absolute"] = f"command {cmd:.3f} s (target < {ECDSA_TARGET_S} s): {ok}"
    if "kubeadm" in med:
        r = cmd / med["kubeadm"]
        vs = "kubeadm" if alg == "RSA-2048" else "kubeadm's RSA-2048 run (it has no ECDSA)"
        out["kubeadm"] = f"command x{r:.2f} of {vs} (target <= x1.00): {'met' if r <= 1.0 else 'MISSED'}"
    return out


def keys_in_process(alg: str, n: int) -> float:
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    t = time.perf_counter()
    for _ in range(n):
        if alg.startswith("RSA"):
            rsa.generate_private_key(public_exponent=65537, key_size=int(alg[4:]))
        else:
            ec.generate_private_key(ec.SECP256R1() if alg == "ECDSA-P256" else ec.SECP384R1())
    return time.perf_counter() - t


def library_in_process(alg: str, root: Path) -> float:
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.pki.manager import create_pki

    cluster = {
        "networking": {"serviceSubnet": "10.96.0.0/12", "dnsDomain": "cluster.local"},
        "certificatesDir": "/etc/kubernetes/pki",
        "etcd": {"local": {}},
        "encryptionAlgorithm": alg,
    }
    init = {
        "localAPIEndpoint": {"advertiseAddress": "10.0.0.1", "bindPort": 6443},
        "nodeRegistration": {"name": "node1"},
    }
    root.mkdir(parents=True, exist_ok=True)  # --rootfs must exist
    t = time.perf_counter()
    create_pki(HostFS(rootfs=root), KubeadmConfig(cluster=cluster, init=init))
    return time.perf_counter() - t


def made(d: Path) -> Path:
    """A fresh root directory (--rootfs must name an existing directory)."""
    d.mkdir(parents=True, exist_ok=True)
    return d


def timed(cmd: list[str], env: dict[str, str] | None = None, cwd: Path = REPO) -> float:
    t = time.perf_counter()
    r = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=120, env=env)
    dt = time.perf_counter() - t
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {r.stderr.strip()[-500:]}")
    return dt


def command_available(tmp: Path, cfgfile: Path) -> str | None:
    try:
        timed(
            [
                sys.executable,
                "-m",
                "kubeadm_py",
                "init",
                "phase",
                "certs",
                "all",
                "--rootfs",
                str(made(tmp / "probe")),
                "--config",
                str(cfgfile),
            ]
        )
    except RuntimeError as e:
        return str(e)
    return None


def find_kubeadm(explicit: str | None) -> str | None:
    if explicit:
        return explicit
    cache = os.environ.get("KUBEADM_PY_TESTBED_CACHE", "/var/cache/kubeadm-py-testbed")
    path = os.path.join(cache, "bin", "kubeadm")
    return path if os.access(path, os.X_OK) else None


def upstream_run(kubeadm: str, tmp: Path, i: int) -> float:
    cfg = tmp / f"upstream{i}.yaml"
    cfg.write_text(UPSTREAM_CONFIG.format(cert_dir=tmp / f"up{i}" / "pki"))
    return timed([kubeadm, "init", "phase", "certs", "all", "--config", str(cfg)])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=15)
    ap.add_argument("--json", default=None)
    ap.add_argument("--algs", default="RSA-2048,ECDSA-P256")
    ap.add_argument(
        "--kubeadm", default=None, help="reference kubeadm v1.20.2 binary (default: test-bed cache)"
    )
    ap.add_argument(
        "--baseline",
        default=None,
        help="another kubeadm-py source tree (e.g. `git archive REV | tar -x -C DIR`): its command is "
        "timed too, interleaved (row command_baseline), for before/after ratios from one run",
    )
    ap.add_argument("--no-pycache", action="store_true", help="leave the bytecode cache settings alone")
    args = ap.parse_args()
    from kubeadm_py.pki import specs

    print(use_bytecode_cache(not args.no_pycache))
    warm_bytecode()
    kubeadm = find_kubeadm(args.kubeadm)
    if kubeadm is None:
        print("kubeadm: not measured (no reference binary; build the test bed or pass --kubeadm)")
    upstream: list[float] = []  # RSA-2048, shared by every algorithm's comparison
    upstream_error: str | None = None

    n_keys = len(specs.CERTS) + 1  # every certificate of the table plus sa
    results: dict[str, dict[str, object]] = {}
    for alg in args.algs.split(","):
        tmp = Path(tempfile.mkdtemp(prefix="certs-bench-"))
        try:
            cfgfile = tmp / "config.yaml"
            cfgfile.write_text(CONFIG.format(alg=alg))
            cmd_error = command_available(tmp, cfgfile)
            if args.baseline and cmd_error is None:  # compiles the baseline's bytecode once
                warm = ["init", "phase", "certs", "all", "--rootfs", str(made(tmp / "bwarm")), "--config"]
                timed([sys.executable, "-m", "kubeadm_py", *warm, str(cfgfile)], cwd=Path(args.baseline))
            samples: dict[str, list[float]] = {
                k: []
                for k in (
                    "floor_in_process",
                    "floor_process",
                    "library_in_process",
                    "library_process",
                    "command",
                    "command_baseline",
                    "kubeadm",
                )
            }
            for i in range(args.reps):
                samples["floor_in_process"].append(keys_in_process(alg, n_keys))
                samples["floor_process"].append(timed([sys.executable, "-c", FLOOR, alg, str(n_keys)]))
                samples["library_in_process"].append(library_in_process(alg, tmp / f"lib{i}"))
                samples["library_process"].append(
                    timed([sys.executable, "-c", LIBRARY, alg, str(tmp / f"libp{i}")])
                )
                if cmd_error is None:
                    cmd = [sys.executable, "-m", "kubeadm_py", "init", "phase", "certs", "all"]
                    samples["command"].append(
                        timed([*cmd, "--rootfs", str(made(tmp / f"cmd{i}")), "--config", str(cfgfile)])
                    )
                    if args.baseline:  # python -m kubeadm_py imports the package of its working directory
                        base_args = ["--rootfs", str(made(tmp / f"base{i}")), "--config", str(cfgfile)]
                        samples["command_baseline"].append(timed([*cmd, *base_args], cwd=Path(args.baseline)))
                if kubeadm and upstream_error is None and (alg == "RSA-2048" or not upstream):
                    try:
                        samples["kubeadm"].append(upstream_run(kubeadm, tmp, i))
                    except RuntimeError as e:
                        upstream_error = str(e)
                        print(f"kubeadm: not measured ({upstream_error.splitlines()[-1][:160]})")
            upstream += samples["kubeadm"] if alg == "RSA-2048" else []
            if not samples["kubeadm"] and upstream:
                samples["kubeadm"] = list(upstream)  # ECDSA: compare with kubeadm's RSA-2048 run
            med = {k: statistics.median(v) for k, v in samples.items() if v}
            floor = med["floor_in_process"]
            res: dict[str, object] = {
                "keys": n_keys,
                "reps": args.reps,
                "median_s": med,
                "ratio_to_floor_in_process": {k: v / floor for k, v in med.items()},
                "ratio_to_floor_process": {k: v / med["floor_process"] for k, v in med.items()},
            }
            if cmd_error is not None:
                res["command_unavailable"] = cmd_error
            print(f"== {alg}: {n_keys} keys, {args.reps} reps (medians)")
            for k, v in med.items():
                label = "kubeadm (RSA-2048)" if k == "kubeadm" and alg != "RSA-2048" else k
                print(
                    f"  {label:20s} {v * 1000:8.1f} ms   x{v / floor:5.2f} of in-process floor"
                    f"   x{v / med['floor_process']:5.2f} of process floor"
                )
            if cmd_error is not None:
                print(f"  command: not measured ({cmd_error.splitlines()[-1][:160]})")
            res["targets"] = targets(alg, med, floor)
            for line in res["targets"].values():
                print(f"  target: {line}")
            results[alg] = res
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
