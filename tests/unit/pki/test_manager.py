"""Create-or-reuse rules: idempotency, mismatches, bad files, external CA, interrupted runs."""

from __future__ import annotations

from datetime import timedelta

import pytest
from cryptography import x509

from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.phases.shared.certs import certs_phase
from kubeadm_py.pki import issue, keys, manager
from kubeadm_py.workflow.runner import execute
from tests.unit import runctx

from .conftest import make_cfg, pki, snapshot


def test_rerun_is_all_unchanged(fs, root, cfg):
    first = manager.create_pki(fs, cfg)
    assert first and all(c.action == "create" for c in first)
    before = snapshot(root)
    again = manager.create_pki(HostFS(rootfs=root), cfg)
    assert again and all(c.action == "unchanged" for c in again)
    assert snapshot(root) == before


def test_phase_tree_through_runner(fs, root, cfg):
    ctx, _ = runctx.build(cfg, root)
    report = execute("init", (certs_phase(),), ctx)
    assert [o.status for o in report.phases] == ["changed"] * 11
    ctx2, _ = runctx.build(cfg, root)
    report2 = execute("init", (certs_phase(),), ctx2)
    assert [o.status for o in report2.phases] == ["unchanged"] * 11


def test_leaf_phase_requires_ca(root, cfg):
    from kubeadm_py.errors import RequirementError

    with pytest.raises(
        RequirementError, match="certs/apiserver needs the ca certificate authority.*certs/ca"
    ):
        execute("init", (certs_phase(),), runctx.build(cfg, root)[0], only=["certs/apiserver"])


def test_external_etcd_skips_etcd_certs(fs, root):
    cfg = make_cfg(encryptionAlgorithm="ECDSA-P256", etcd={"external": {"endpoints": ["https://e:2379"]}})
    manager.create_pki(fs, cfg)
    assert not (pki(root) / "etcd").exists()
    assert not (pki(root) / "apiserver-etcd-client.crt").exists()
    report = execute("init", (certs_phase(),), runctx.build(cfg, root)[0])
    assert {o.path: o.status for o in report.phases}["certs/etcd-server"] == "skipped"


def test_missing_san_is_an_error_naming_it_and_nothing_is_written(fs, root, cfg):
    manager.create_pki(fs, cfg)
    before = snapshot(root)
    cfg2 = make_cfg(encryptionAlgorithm="ECDSA-P256", apiServer={"certSANs": ["new.example.com", "10.1.1.1"]})
    with pytest.raises(
        KubeadmError, match=r"apiserver\.crt cannot be used: SANs \['new.example.com', '10.1.1.1'\]"
    ):
        manager.ensure(HostFS(rootfs=root), cfg2, "apiserver")
    assert snapshot(root) == before


def test_invalid_san_is_a_clear_error(fs, root):
    cfg = make_cfg(encryptionAlgorithm="ECDSA-P256", apiServer={"certSANs": ["not a name!"]})
    manager.ensure(fs, cfg, "ca")
    before = snapshot(root)
    with pytest.raises(
        KubeadmError, match=r"apiServer.certSANs: 'not a name!' is not a valid IP address, DNS name"
    ):
        manager.ensure(fs, cfg, "apiserver")
    assert snapshot(root) == before


def test_leaf_signed_by_another_ca_is_rejected(fs, root, cfg, tmp_path):
    manager.create_pki(fs, cfg, names=["ca", "apiserver"])
    (tmp_path / "other").mkdir()
    other = HostFS(rootfs=tmp_path / "other")
    manager.create_pki(other, cfg, names=["ca"])
    (pki(root) / "ca.crt").write_bytes((pki(tmp_path / "other") / "ca.crt").read_bytes())
    (pki(root) / "ca.key").write_bytes((pki(tmp_path / "other") / "ca.key").read_bytes())
    with pytest.raises(KubeadmError, match="not signed by the current ca certificate"):
        manager.ensure(HostFS(rootfs=root), cfg, "apiserver")


@pytest.mark.parametrize(
    "garbage", [b"", b"hello", b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n"]
)
def test_garbled_certificate(fs, root, cfg, garbage):
    manager.ensure(fs, cfg, "ca")
    (pki(root) / "ca.crt").write_bytes(garbage)
    with pytest.raises(
        KubeadmError, match=r"/etc/kubernetes/pki/ca\.crt: (not a valid PEM certificate|no certificate)"
    ):
        manager.ensure(HostFS(rootfs=root), cfg, "ca")
    assert (pki(root) / "ca.crt").read_bytes() == garbage


def test_garbled_key(fs, root, cfg):
    manager.ensure(fs, cfg, "ca")
    (pki(root) / "ca.key").write_bytes(
        b"-----BEGIN RSA PRIVATE KEY-----\nZm9v\n-----END RSA PRIVATE KEY-----\n"
    )
    with pytest.raises(KubeadmError, match=r"ca\.key: not a valid PEM private key"):
        manager.ensure(HostFS(rootfs=root), cfg, "apiserver")
    assert not (pki(root) / "apiserver.crt").exists()


def test_unreadable_file(fs, root, cfg):
    import os

    manager.ensure(fs, cfg, "ca")
    p = pki(root) / "ca.crt"
    p.unlink()
    p.mkdir()  # reading a directory fails the same way for root and non-root
    with pytest.raises(KubeadmError, match="is a directory"):
        manager.ensure(HostFS(rootfs=root), cfg, "ca")
    assert os.path.isdir(p)


def test_key_not_matching_certificate(fs, root, cfg):
    manager.create_pki(fs, cfg, names=["ca", "apiserver"])
    (pki(root) / "apiserver.key").write_bytes(keys.encode_private_key(keys.generate_key("ECDSA-P256")))
    before = snapshot(root)
    with pytest.raises(KubeadmError, match="private key does not match"):
        manager.ensure(HostFS(rootfs=root), cfg, "apiserver")
    assert snapshot(root) == before


def test_expired_ca_is_an_error(fs, root, cfg):
    st = manager.settings(cfg)
    key = keys.generate_key("ECDSA-P256")
    old = st.start - timedelta(days=400)
    ca = issue.self_signed_ca("kubernetes", key, old, old + timedelta(days=1))
    fs.write("/etc/kubernetes/pki/ca.crt", issue.encode_cert(ca), 0o644)
    fs.write("/etc/kubernetes/pki/ca.key", keys.encode_private_key(key), 0o600)
    before = snapshot(root)
    with pytest.raises(KubeadmError, match="ca.crt cannot be used: expired on"):
        manager.ensure(HostFS(rootfs=root), cfg, "ca")
    with pytest.raises(KubeadmError, match="ca.crt cannot be used: expired on"):
        manager.ensure(HostFS(rootfs=root), cfg, "apiserver")
    assert snapshot(root) == before


def test_external_ca_mode(fs, root, cfg):
    manager.create_pki(fs, cfg)
    (pki(root) / "ca.key").unlink()
    before = snapshot(root)
    changes = manager.create_pki(HostFS(rootfs=root), cfg)
    assert all(c.action == "unchanged" for c in changes)
    assert snapshot(root) == before
    (pki(root) / "apiserver-kubelet-client.crt").unlink()
    (pki(root) / "apiserver-kubelet-client.key").unlink()
    with pytest.raises(
        KubeadmError,
        match=r"external CA mode: .*ca\.key is absent, so the apiserver-kubelet-client "
        r"certificate .*apiserver-kubelet-client\.crt",
    ):
        manager.ensure(HostFS(rootfs=root), cfg, "apiserver-kubelet-client")
    assert not (pki(root) / "apiserver-kubelet-client.crt").exists()


def test_key_without_certificate_is_completed(fs, root, cfg):
    """An interrupted run leaves a key without its certificate: the next run certifies that key."""
    manager.ensure(fs, cfg, "ca")
    key = keys.generate_key("ECDSA-P256")
    fs.write("/etc/kubernetes/pki/apiserver.key", keys.encode_private_key(key), 0o600)
    manager.ensure(HostFS(rootfs=root), cfg, "apiserver")
    cert = x509.load_pem_x509_certificate((pki(root) / "apiserver.crt").read_bytes())
    assert keys.same_public_key(cert.public_key(), key.public_key())


def test_sa_pair(fs, root, cfg):
    manager.ensure(fs, cfg, "sa")
    (pki(root) / "sa.pub").unlink()
    manager.ensure(HostFS(rootfs=root), cfg, "sa")  # rewritten from sa.key
    priv = keys.load_private_key((pki(root) / "sa.key").read_bytes(), "sa.key")
    pub = keys.load_public_key((pki(root) / "sa.pub").read_bytes(), "sa.pub")
    assert keys.same_public_key(priv.public_key(), pub)
    (pki(root) / "sa.pub").write_bytes(keys.encode_public_key(keys.generate_key("ECDSA-P256").public_key()))
    with pytest.raises(KubeadmError, match="sa.pub is not the public key of"):
        manager.ensure(HostFS(rootfs=root), cfg, "sa")


def test_dry_run_writes_only_to_memory(root, cfg, tmp_path):
    fs = HostFS(rootfs=root, dry_run=True)
    changes = manager.create_pki(fs, cfg)
    assert list(root.iterdir()) == []
    assert fs.read_bytes("/etc/kubernetes/pki/apiserver.crt") is not None  # later phases read it
    assert fs.overlay is not None and "/etc/kubernetes/pki/ca.key" in fs.overlay.files
    keys_changes = [c for c in changes if c.target.endswith(".key")]
    assert keys_changes and all(c.content is None for c in keys_changes)
    assert all("PRIVATE KEY" not in (c.content or "") for c in changes)
