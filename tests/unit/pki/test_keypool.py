"""RSA keys from the key pool's threads: same files as the sequential path, single phases still
work, a failed generation only costs time, and closing the pool stops its threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa

from kubeadm_py.hostfs import HostFS
from kubeadm_py.pki import keypool, keys, manager, specs

from .conftest import make_cfg, pki


def pool_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "kubeadm-py-keys"]


@pytest.fixture
def pool() -> Iterator[keypool.KeyPool]:
    with keypool.KeyPool(workers=2) as p:
        yield p
    for t in pool_threads():  # closed: every thread ends after the key it was on
        t.join(timeout=30)
    assert pool_threads() == []


def key_files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(pki(root))): p.read_bytes() for p in sorted(pki(root).rglob("*.key"))}


def test_full_run_writes_the_same_files_with_distinct_matching_keys(tmp_path: Path) -> None:
    cfg = make_cfg()
    root = tmp_path / "root"
    root.mkdir()
    with keypool.KeyPool(workers=2) as pool:
        manager.create_pki(HostFS(rootfs=root), cfg, keys=pool)
        assert pool._batch is not None and not pool._batch.pending  # every key came from the pool
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
    seq = tmp_path / "seq"  # no pool: the sequential path writes the same files
    seq.mkdir()
    manager.create_pki(HostFS(rootfs=seq), cfg)
    assert sorted(p.relative_to(seq) for p in seq.rglob("*")) == sorted(
        p.relative_to(root) for p in root.rglob("*")
    )


def test_single_entry_runs_alone(tmp_path: Path, pool: keypool.KeyPool) -> None:
    root = tmp_path / "root"
    root.mkdir()
    cfg = make_cfg()
    manager.ensure(HostFS(rootfs=root), cfg, "ca", replace(manager.settings(cfg), keys=pool))
    assert sorted(p.name for p in pki(root).iterdir()) == ["ca.crt", "ca.key"]


def test_failed_generation_falls_back_to_the_caller(
    tmp_path: Path, pool: keypool.KeyPool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keypool, "_generate", lambda alg: None)
    root = tmp_path / "root"
    root.mkdir()
    changes = manager.create_pki(HostFS(rootfs=root), make_cfg(), keys=pool)
    assert all(c.action == "create" for c in changes)
    assert len(set(key_files(root).values())) == len(specs.cert_list(True)) + 1


def test_no_threads_for_ecdsa_or_without_a_pool(tmp_path: Path, pool: keypool.KeyPool) -> None:
    ec = make_cfg(encryptionAlgorithm="ECDSA-P256")
    (tmp_path / "ec").mkdir()
    (tmp_path / "rsa").mkdir()
    manager.create_pki(HostFS(rootfs=tmp_path / "ec"), ec, keys=pool)
    assert pool._batch is None and pool_threads() == []
    manager.create_pki(HostFS(rootfs=tmp_path / "rsa"), make_cfg(), names=["ca", "sa"])  # no pool
    assert pool._batch is None and pool_threads() == []
    assert len(key_files(tmp_path / "rsa")) == 2


def test_a_new_run_stops_the_previous_one(tmp_path: Path, pool: keypool.KeyPool) -> None:
    cfg = make_cfg()
    st = replace(manager.settings(cfg), keys=pool)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    manager.ensure(HostFS(rootfs=tmp_path / "a"), cfg, "ca", st)  # prefetches for the whole table
    first = pool._batch
    assert first is not None and first.pending
    rsa3072 = make_cfg(encryptionAlgorithm="RSA-3072")
    manager.create_pki(HostFS(rootfs=tmp_path / "b"), rsa3072, names=["ca", "sa"], keys=pool)
    assert pool._batch is not first and first._left == 0  # no new key is started for the first run
    key = keys.load_private_key((pki(tmp_path / "b") / "ca.key").read_bytes(), "ca.key")
    assert keys.describe(key) == "RSA-3072"


def test_kubeconfig_batch_keys_from_the_pool(tmp_path: Path, pool: keypool.KeyPool) -> None:
    """The kubeconfig phase's keys come from the pool too: every kubeconfig gets its own key that
    matches its client certificate, and a second run reuses the files without new threads."""
    import base64

    import yaml

    from kubeadm_py.kubeconfig.files import ensure_kubeconfig
    from kubeadm_py.kubeconfig.specs import KUBECONFIGS

    cfg = make_cfg()
    root = tmp_path / "root"
    root.mkdir()
    fs = HostFS(rootfs=root)
    manager.create_pki(fs, cfg)
    st = replace(manager.settings(cfg), keys=pool)
    batch = tuple(k for k in KUBECONFIGS if k.applies_to(cfg.kubernetes_version))
    for spec in batch:
        ensure_kubeconfig(fs, cfg, spec, "/etc/kubernetes", st, batch=batch)
    assert pool._batch is not None and pool._batch.run[0][0] == "kubeconfig"
    assert not pool._batch.pending  # every prefetched key was used
    seen = set()
    for spec in batch:
        user = yaml.safe_load((root / "etc/kubernetes" / spec.file).read_text())["users"][0]["user"]
        key_pem = base64.b64decode(user["client-key-data"])
        cert = x509.load_pem_x509_certificate(base64.b64decode(user["client-certificate-data"]))
        key = keys.load_private_key(key_pem, spec.name)
        assert keys.same_public_key(cert.public_key(), key.public_key())  # type: ignore[arg-type]
        seen.add(key_pem)
    assert len(seen) == len(batch)
    pool.close()
    for spec in batch:
        assert ensure_kubeconfig(fs, cfg, spec, "/etc/kubernetes", st, batch=batch)[0].action == "unchanged"
    assert pool._batch is None


def test_a_run_takes_its_keys_from_the_pool_its_context_holds(tmp_path: Path) -> None:
    """api.run gives each run a key pool (ctx.keys) and closes it when the run ends."""
    from kubeadm_py import api

    report = api.run("init", phases=["certs", "kubeconfig"], rootfs=str(tmp_path))
    assert report.ok and (tmp_path / "etc/kubernetes/admin.conf").exists()
    for t in pool_threads():
        t.join(timeout=30)
    assert pool_threads() == []  # closed with the run
    (tmp_path / "b").mkdir()
    ctx = api.build_context("init", {"rootfs": str(tmp_path / "b")})
    try:
        assert isinstance(ctx.keys, keypool.KeyPool)
    finally:
        ctx.close()
