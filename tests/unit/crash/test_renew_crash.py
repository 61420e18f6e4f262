"""``kill -9`` of ``kubeadm-py certs renew all`` inside each file write, then a rerun: whole files
at every instant, and after the rerun every leaf certificate and kubeconfig is renewed, matches
its key and chains to its CA."""

from __future__ import annotations

import base64
import shutil
import signal
from pathlib import Path

import yaml
from cryptography import x509

from tests.unit.crash import tree
from tests.unit.crash.conftest import Server, init_argv, kill_points

RENEWED_CONFS = ("admin.conf", "controller-manager.conf", "scheduler.conf")  # kubelet.conf: the kubelet's


def _serials(root: Path) -> dict[str, int]:
    pki = root / tree.PKI
    out = {}
    for name in tree.ISSUER:
        out[name] = x509.load_pem_x509_certificate((pki / f"{name}.crt").read_bytes()).serial_number
    for conf in RENEWED_CONFS:
        user = yaml.safe_load((root / "etc/kubernetes" / conf).read_text())["users"][0]["user"]
        pem = base64.b64decode(user["client-certificate-data"])
        out[conf] = x509.load_pem_x509_certificate(pem).serial_number
    return out


def _assert_renewed(before: dict[str, int], root: Path) -> None:
    after = _serials(root)
    cas = {n for n, issuer in tree.ISSUER.items() if n == issuer}
    assert {n for n in before if before[n] != after[n]} == set(before) - cas  # CAs are never renewed


def test_kill_renew_everywhere(server: Server, ecdsa_config: str, scratch: Path) -> None:
    node = scratch / "node"
    assert server.run(init_argv(node, ecdsa_config)).exit == 0
    before = _serials(node)
    renew = ["certs", "renew", "all", "--config", ecdsa_config, "--rootfs"]
    clean = scratch / "clean"
    shutil.copytree(node, clean)
    base = server.run([*renew, str(clean)], root=clean)
    assert base.exit == 0, base.log
    tree.check_complete(clean)
    _assert_renewed(before, clean)
    points = kill_points(base.events)
    written = {e.partition(":")[2] for e in base.events}
    assert len(points) == len(written) >= 17, (points, written)  # inside each file: 7 certs+keys, 3 confs
    for i, at in enumerate(points):
        root = scratch / f"k{i}"
        shutil.copytree(node, root)
        killed = server.run([*renew, str(root)], kill_at=at, root=root)
        assert killed.signal == signal.SIGKILL and killed.events[-1] == base.events[at - 1], killed.log
        tree.check_files(root)
        rerun = server.run([*renew, str(root)])
        assert rerun.exit == 0, (base.events[at - 1], rerun.log[-3000:])
        tree.check_complete(root)
        _assert_renewed(before, root)
        shutil.rmtree(root)
    print(f"\n[crash] certs renew all: {len(points)} kill points")
