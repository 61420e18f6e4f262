"""The node's run journal: an audit trail of runs, and resuming a workflow after a failure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeadm_py import api, journal
from kubeadm_py.errors import PhaseError, PreflightError
from kubeadm_py.host.fake import FakeProbe
from kubeadm_py.hostfs import HostFS
from kubeadm_py.phases.shared.preflight import preflight_phase

NODE = {"apiserver-advertise-address": "127.0.0.1", "node-name": "cp-1", "kubernetes-version": "v1.20.2"}


def entries(root: Path) -> list[dict]:
    return json.loads((root / "etc/kubernetes/tmp/kubeadm-py-init.json").read_text())


def test_each_run_is_recorded_without_secrets(tmp_path: Path) -> None:
    api.run("init", phases=["certs", "kubeconfig/admin"], rootfs=str(tmp_path), options=NODE)
    api.run("init", phases=["certs"], rootfs=str(tmp_path), options=NODE)
    runs = entries(tmp_path)
    assert [r["ok"] for r in runs] == [True, True]
    first = {p["phase"]: p for p in runs[0]["phases"]}
    assert first["certs/ca"]["status"] == "changed"
    assert "file:create:/etc/kubernetes/pki/ca.key" in first["certs/ca"]["changed"]
    assert all(p["status"] == "unchanged" for p in runs[1]["phases"])
    assert runs[0]["config"] == runs[1]["config"] and runs[0]["config"].startswith("sha256:")
    assert runs[0]["kubernetesVersion"] == "v1.20.2" and runs[0]["node"] == "cp-1"
    text = (tmp_path / "etc/kubernetes/tmp/kubeadm-py-init.json").read_text()
    assert "PRIVATE KEY" not in text
    assert oct((tmp_path / "etc/kubernetes/tmp/kubeadm-py-init.json").stat().st_mode & 0o777) == "0o600"


def test_dry_run_leaves_no_journal(tmp_path: Path) -> None:
    api.run("init", phases=["certs/ca"], rootfs=str(tmp_path), options=NODE, dry_run=True)
    assert not (tmp_path / "etc").exists()


def test_failed_run_is_recorded(tmp_path: Path) -> None:
    api.run("init", phases=["certs/ca"], rootfs=str(tmp_path), options=NODE)
    (tmp_path / "etc/kubernetes/pki/apiserver.crt").write_text("garbage")
    (tmp_path / "etc/kubernetes/pki/apiserver.key").write_text("garbage")
    with pytest.raises(PhaseError):
        api.run("init", phases=["certs"], rootfs=str(tmp_path), options=NODE)
    last = entries(tmp_path)[-1]
    assert last["ok"] is False and last["error"].startswith("phase certs/apiserver")


def test_journal_is_capped(tmp_path: Path) -> None:
    fs = HostFS(rootfs=tmp_path)
    path = tmp_path / journal.journal_path("init").lstrip("/")
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps([{"phases": []}] * journal.MAX_ENTRIES))
    api.run("init", phases=["certs/ca"], rootfs=str(tmp_path), options=NODE)
    assert len(journal.load(fs, "init")) == journal.MAX_ENTRIES


def _preflight(tmp_path: Path, probe: FakeProbe) -> list[str]:
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.effectors.bundle import Hooks
    from tests.unit import runctx

    cfg = KubeadmConfig(
        cluster={"kubernetesVersion": "v1.20.2", "networking": {"serviceSubnet": "10.96.0.0/12"}},
        init={
            "localAPIEndpoint": {"advertiseAddress": "127.0.0.1", "bindPort": 6443},
            "nodeRegistration": {"name": "cp-1"},
        },
    )
    ctx, logs = runctx.build(cfg, tmp_path, hooks=Hooks(probe=probe, cri=probe.image_service))
    preflight_phase("init").run(ctx)  # type: ignore[misc]
    return logs


def test_rerun_after_failure_resumes_past_own_ports_and_manifests(tmp_path: Path) -> None:
    own = FakeProbe(ports_in_use={6443: "kube-apiserver (pid 9)", 2379: "etcd (pid 8)"})
    with pytest.raises(PreflightError, match="Port-6443"):
        _preflight(tmp_path, own)  # a node nobody set up: the ports are a conflict
    api.run("init", phases=["certs/ca"], rootfs=str(tmp_path), options=NODE)  # an earlier init changed it
    logs = _preflight(tmp_path, own)
    assert any("resuming" in line and "kubeadm-py-init.json" in line for line in logs)
    assert any("[WARNING Port-6443]" in line for line in logs)


def test_resume_does_not_hide_other_errors(tmp_path: Path) -> None:
    api.run("init", phases=["certs/ca"], rootfs=str(tmp_path), options=NODE)
    with pytest.raises(PreflightError, match="NumCPU"):
        _preflight(tmp_path, FakeProbe(cpus=1, ports_in_use={6443: "kube-apiserver (pid 9)"}))


def test_run_that_changed_nothing_leaves_no_journal(tmp_path: Path) -> None:
    pki = tmp_path / "etc/kubernetes/pki"
    pki.mkdir(parents=True)
    (pki / "ca.crt").write_text("garbage")
    (pki / "ca.key").write_text("garbage")
    with pytest.raises(PhaseError):
        api.run("init", phases=["certs/apiserver"], rootfs=str(tmp_path), options=NODE)
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == ["ca.crt", "ca.key"]


def test_a_run_is_in_the_journal_before_its_first_change(tmp_path: Path) -> None:
    """Crash safety: when the first phase after preflight starts, the journal already holds an
    in-progress entry, so a run killed at any later instant leaves its trace and the rerun
    resumes past its own files and ports; the finished run replaces that entry."""
    from kubeadm_py.workflow.report import NullReporter

    seen: list[list[dict]] = []

    class Spy(NullReporter):
        def phase_started(self, path: str) -> None:
            seen.append(entries(tmp_path))

    phases = ["certs/ca", "certs/apiserver"]
    api.run("init", phases=phases, rootfs=str(tmp_path), options=NODE, reporter=Spy())
    first, second = seen
    assert [e["inProgress"] for e in first] == [True] and first == second
    assert journal.changed_before(HostFS(rootfs=tmp_path), "init") is not None  # a killed run counts
    final = entries(tmp_path)
    assert len(final) == 1 and "inProgress" not in final[0] and final[0]["ok"] is True
    assert final[0]["run"] == first[0]["run"]

