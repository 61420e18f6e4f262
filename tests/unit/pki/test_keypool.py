"""RSA keys from forked workers: same files as the sequential path, single phases still work, a
failing worker only costs time, and no worker outlives the pool."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki import keypool, keys, manager, specs

from .conftest import make_cfg, pki


def children() -> list[int]:
    """PIDs of this process's live children (none expected once a pool is closed)."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            out.append(int(entry))
    return out


@pytest.fixture
def pool() -> Iterator[None]:
    keypool.enable(workers=2)
    try:
        yield
    finally:
        keypool.disable()
    assert children() == []


def key_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(pki(root))): p.read_bytes() for p in sorted(pki(root).rglob("*.key"))}


def test_full_run_writes_the_same_files_with_distinct_matching_keys(tmp_path: Path, pool: None) -> None:
    cfg = make_cfg()
    root = tmp_path / "root"
    manager.create_pki(HostFS(rootfs=root), cfg)
    found = key_files(root)
    expected = {f"{c.base}.key" for c in specs.cert_list(True)} | {"sa.key"}
    assert set(found) == expected
    assert len(set(found.values())) == len(found)  # every certificate got its own key
    for c in specs.cert_list(True):
        key = keys.load_private_key((pki(root) / f"{c.base}.key").read_bytes(), c.base)
        assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == 2048
        cert = x509.load_pem_x509_certificate((pki(root) / f"{c.base}.crt").read_bytes())
        assert keys.same_public_key(cert.public_key(), key.public_key())  # type: ignore[arg-type]
        assert (pki(root) / f"{c.base}.key").stat().st_mode & 0o777 == 0o600
    assert keypool._active is None or not keypool._active.pending  # every prefetched key was used
    # same file set as the sequential path
    keypool.disable()
    seq = tmp_path / "seq"
    manager.create_pki(HostFS(rootfs=seq), cfg)
    assert sorted(p.relative_to(seq) for p in seq.rglob("*")) == sorted(
        p.relative_to(root) for p in root.rglob("*")
    )


def test_single_entry_runs_alone(tmp_path: Path, pool: None) -> None:
    root = tmp_path / "root"
    fs = HostFS(rootfs=root)
    manager.ensure(fs, make_cfg(), "ca")
    assert sorted(key_files(root)) == ["ca.key"]
    assert sorted(p.name for p in pki(root).iterdir()) == ["ca.crt", "ca.key"]
    keypool.disable()  # the workers prefetching for the other entries are killed and reaped
    assert children() == []


def test_failing_workers_fall_back_to_generating_here(
    tmp_path: Path, pool: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keypool, "_child", lambda count, alg, wfd: os._exit(3))
    root = tmp_path / "root"
    changes = manager.create_pki(HostFS(rootfs=root), make_cfg())
    assert all(c.action == "create" for c in changes)
    assert len(key_files(root)) == len(specs.cert_list(True)) + 1


def test_no_workers_for_ecdsa_or_when_disabled(tmp_path: Path) -> None:
    keypool.enable()
    try:
        manager.create_pki(HostFS(rootfs=tmp_path / "ec"), make_cfg(encryptionAlgorithm="ECDSA-P256"))
        assert keypool._active is None and children() == []
    finally:
        keypool.disable()
    manager.ensure(HostFS(rootfs=tmp_path / "rsa"), make_cfg(), "ca")
    assert keypool._active is None and children() == []


def test_speculative_workers_are_adopted_by_a_run_of_the_same_algorithm(tmp_path: Path, pool: None) -> None:
    keypool.speculate("RSA-2048", len(specs.CERTS) + 1)
    assert keypool._active is not None
    pids = [w.pid for w in keypool._active.workers]
    root = tmp_path / "root"
    manager.create_pki(HostFS(rootfs=root), make_cfg())
    assert len(key_files(root)) == len(specs.cert_list(True)) + 1
    assert keypool._active is not None and [w.pid for w in keypool._active.workers] == pids  # no new fork
    assert not keypool._active.pending


@pytest.mark.parametrize(("algorithm", "pooled"), [("ECDSA-P256", False), ("RSA-3072", True)])
def test_a_wrong_guess_only_costs_the_speculative_workers(
    tmp_path: Path, pool: None, algorithm: str, pooled: bool
) -> None:
    keypool.speculate("RSA-2048", 3)
    assert keypool._active is not None
    speculative = [w.pid for w in keypool._active.workers]
    root = tmp_path / "root"
    manager.create_pki(HostFS(rootfs=root), make_cfg(encryptionAlgorithm=algorithm), names=["ca", "sa"])
    assert not set(speculative) & set(children())  # killed and reaped
    assert (keypool._active is not None) == pooled
    key = keys.load_private_key((pki(root) / "ca.key").read_bytes(), "ca.key")
    assert keys.describe(key) == algorithm


def test_speculation_needs_the_pool_enabled() -> None:
    keypool.speculate("RSA-2048", 11)
    assert keypool._active is None and children() == []


def test_kubeconfig_batch_keys_from_workers(tmp_path: Path, pool: None) -> None:
    """The kubeconfig phase's keys come from the pool too: every kubeconfig gets its own key that
    matches its client certificate, and a second run reuses the files without new workers."""
    import base64

    import yaml

    from kubeadm_py.kubeconfig.files import ensure_kubeconfig
    from kubeadm_py.kubeconfig.specs import KUBECONFIGS

    cfg = make_cfg()
    root = tmp_path / "root"
    fs = HostFS(rootfs=root)
    manager.create_pki(fs, cfg)
    batch = tuple(k for k in KUBECONFIGS if k.applies_to(cfg.kubernetes_version))
    for spec in batch:
        ensure_kubeconfig(fs, cfg, spec, "/etc/kubernetes", batch=batch)
    assert keypool._active is not None and keypool._active.key[0] == "kubeconfig"
    assert not keypool._active.pending  # every prefetched key was used
    seen = set()
    for spec in batch:
        user = yaml.safe_load((root / "etc/kubernetes" / spec.file).read_text())["users"][0]["user"]
        key_pem = base64.b64decode(user["client-key-data"])
        cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
        key = keys.load_private_key(key_pem, spec.name)
        assert keys.same_public_key(cert.public_key(), key.public_key())  # type: ignore[arg-type]
        seen.add(key_pem)
    assert len(seen) == len(batch)
    keypool.disable()
    keypool.enable(workers=2)
    for spec in batch:
        assert ensure_kubeconfig(fs, cfg, spec, "/etc/kubernetes", batch=batch)[0].action == "unchanged"
    assert keypool._active is None
