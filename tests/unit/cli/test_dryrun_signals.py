"""A dry run puts nothing on disk, however it ends: one test per signal (SIGTERM, SIGINT, SIGHUP,
SIGKILL) sent to a running ``certs renew all --dry-run`` and ``init phase certs all --dry-run``
with ``TMPDIR`` a fresh empty directory, which must still be empty afterwards, and the root
unchanged. RSA-4096 keys keep the run busy long enough to be interrupted mid-way."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from kubeadm_py import api

CONFIG = """apiVersion: kubeadm.k8s.io/v1beta4
kind: ClusterConfiguration
kubernetesVersion: v1.31.0
encryptionAlgorithm: RSA-4096
"""
SIGNALS = [signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGKILL]


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A root with the PKI and kubeconfig files (made once: RSA-4096 keys are slow)."""
    base = tmp_path_factory.mktemp("node")
    (base / "config.yaml").write_text(CONFIG)
    (base / "root").mkdir()
    config, root = str(base / "config.yaml"), str(base / "root")
    api.run("init", phases=["certs", "kubeconfig"], config=config, rootfs=root)
    return base


def snapshot(d: Path) -> dict[str, bytes]:
    return {str(p.relative_to(d)): p.read_bytes() for p in sorted(d.rglob("*")) if p.is_file()}


def default_dispositions() -> None:
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM):
        signal.signal(sig, signal.SIG_DFL)


def interrupt(args: list[str], sig: signal.Signals, tmpdir: Path) -> int:
    """Start ``kubeadm-py args``, send ``sig`` once it has printed its first line (it is busy
    generating keys then), and return its exit status."""
    env = {**os.environ, "TMPDIR": str(tmpdir), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubeadm_py", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        # a shell's background job starts with SIGINT ignored, and under nohup SIGHUP is ignored:
        # Python keeps an inherited SIG_IGN (the run then finished with 0). Give the child the
        # default dispositions, as an operator's terminal does.
        preexec_fn=default_dispositions,
    )
    assert proc.stdout is not None
    first = proc.stdout.readline()
    assert first, "the dry run printed nothing"
    assert proc.poll() is None, "the dry run ended before the signal"
    proc.send_signal(sig)
    proc.stdout.read()
    return proc.wait(timeout=60)


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
def test_certs_renew_dry_run_leaves_nothing(node: Path, tmp_path: Path, sig: signal.Signals) -> None:
    root = tmp_path / "root"
    shutil.copytree(node / "root", root, symlinks=True)
    before = snapshot(root)
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    args = ["certs", "renew", "all", "--dry-run", "--config", str(node / "config.yaml")]
    args += ["--rootfs", str(root)]
    status = interrupt(args, sig, tmpdir)
    assert status != 0  # interrupted, not finished
    assert list(tmpdir.iterdir()) == []
    assert snapshot(root) == before


@pytest.mark.parametrize("sig", SIGNALS, ids=[s.name for s in SIGNALS])
def test_init_certs_dry_run_leaves_nothing(node: Path, tmp_path: Path, sig: signal.Signals) -> None:
    root = tmp_path / "root"
    root.mkdir()
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    args = ["init", "phase", "certs", "all", "--dry-run", "--config", str(node / "config.yaml")]
    args += ["--rootfs", str(root)]
    status = interrupt(args, sig, tmpdir)
    assert status != 0
    assert list(tmpdir.iterdir()) == []
    assert list(root.iterdir()) == []
