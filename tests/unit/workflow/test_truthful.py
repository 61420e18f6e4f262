"""Truthful results (issue 13): a dry run past preflight's fatal errors is not a success, phase
lines say what happened (would change, skipped and why, what a phase that changed nothing did),
preflight is never a change, and certs renew --dry-run renews nothing in words either."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubeadm_py import api
from kubeadm_py.cli.main import main
from kubeadm_py.cli.render import PlainReporter
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.host import probe as probe_module
from kubeadm_py.host.fake import FakeProbe

NODE = {"apiserver-advertise-address": "127.0.0.1", "node-name": "cp-1", "kubernetes-version": "v1.20.2"}
ROOTFS_PHASES = ["preflight", "certs", "kubeconfig", "etcd", "control-plane"]


class Lines:
    def __init__(self) -> None:
        self.text: list[str] = []

    def write(self, s: str) -> None:
        self.text.extend(s.splitlines())

    def flush(self) -> None:
        return None


def dry_init(tmp_path: Path, probe: FakeProbe) -> tuple[api.RunReport, list[str]]:
    out = Lines()
    report = api.run(
        "init",
        rootfs=str(tmp_path),
        options=NODE,
        dry_run=True,
        hooks=Hooks(probe=probe, cri=probe.image_service),
        reporter=PlainReporter(out),  # type: ignore[arg-type]
    )
    return report, out.text


def written(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if not p.is_dir()]


def test_dry_run_past_fatal_preflight_errors_is_not_ok(tmp_path: Path) -> None:
    report, lines = dry_init(tmp_path, FakeProbe(cpus=1))
    assert report.ok is False and report.error is None
    assert report.would_stop is not None and report.would_stop.startswith("phase preflight: ")
    assert "NumCPU" in report.would_stop
    pre = report.outcome("preflight")
    assert pre.status == "unchanged" and pre.reason.startswith("a real run stops here: ")
    assert report.outcome("certs/ca").status == "changed"  # the rest of the plan is still shown
    assert report.outcome("show-join-command").status == "skipped"
    messages = report.outputs["messages"]
    assert messages[-1].startswith("[dryrun] A real run stops at phase preflight: ")
    assert api.DRY_RUN_FINISHED not in messages
    assert not any("initialized successfully" in line for line in lines + messages)
    assert report.to_dict()["ok"] is False and report.to_dict()["wouldStop"] == report.would_stop
    assert written(tmp_path) == []


def test_cli_dry_run_past_fatal_preflight_errors_exits_as_a_real_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(probe_module, "RealProbe", lambda fs: FakeProbe(cpus=1))  # the CLI's probe
    argv = ["init", "--dry-run", "--rootfs", str(tmp_path), "-o", "json"]
    argv += [f"--{k}={v}" for k, v in NODE.items()]
    rc = main(argv)
    out, err = capsys.readouterr()
    assert rc == 1  # the exit code of a real run that fails preflight
    doc = json.loads(out)
    assert doc["ok"] is False and doc["wouldStop"].startswith("phase preflight: ")
    assert err.strip().splitlines()[-1].startswith("error: dry run: a real run stops at phase preflight: ")
    assert "initialized successfully" not in out + err
    assert written(tmp_path) == []


def test_dry_run_phase_lines_say_what_happened(tmp_path: Path) -> None:
    report, lines = dry_init(tmp_path, FakeProbe())
    assert report.ok and report.would_stop is None
    phase_lines = {ln.split(":")[0].removeprefix("[phase] "): ln for ln in lines if ln.startswith("[phase] ")}
    assert "would change" in phase_lines["certs/ca"] and ": changed" not in phase_lines["certs/ca"]
    assert "checks passed" in phase_lines["preflight"]
    assert "upload-certs: skipped (--upload-certs not given)" in phase_lines["upload-certs"]
    assert "wait-control-plane: would wait for kubelet" in phase_lines["wait-control-plane"]
    assert "show-join-command: printed the join commands" in phase_lines["show-join-command"]
    for parent in ("certs", "kubeconfig", "control-plane", "etcd", "addon", "upload-config"):
        assert parent not in phase_lines, phase_lines.get(parent)
    assert not any("already in the desired state" in ln for ln in lines if "[phase]" in ln), lines
    assert report.outcome("preflight").status == "unchanged"
    assert any("initialized successfully" in ln for ln in lines)


def test_dry_run_json_says_would_change(tmp_path: Path) -> None:
    """-o json (to_dict) of a dry run never says a phase "changed": the status is the phase line's
    "would change", and the run as a whole changed nothing but would."""
    report, _ = dry_init(tmp_path, FakeProbe())
    doc = json.loads(json.dumps(report.to_dict()))
    statuses = {p["phase"]: p["status"] for p in doc["phases"]}
    assert statuses["certs/ca"] == "would change" and "changed" not in statuses.values(), statuses
    assert doc["changed"] is False and doc["wouldChange"] is True
    real = api.run("init", phases=["certs/ca"], rootfs=str(tmp_path), options=NODE).to_dict()
    assert real["phases"][0]["status"] == "changed" and real["changed"] and not real["wouldChange"]


def test_preflight_is_not_a_change_and_a_rerun_changes_nothing(tmp_path: Path) -> None:
    probe = FakeProbe()
    hooks = Hooks(probe=probe, cri=probe.image_service)
    only_preflight = api.run("init", phases=["preflight"], rootfs=str(tmp_path), options=NODE, hooks=hooks)
    assert only_preflight.changed is False and only_preflight.outcome("preflight").status == "unchanged"
    first = api.run("init", phases=ROOTFS_PHASES, rootfs=str(tmp_path), options=NODE, hooks=hooks)
    assert first.changed
    again = api.run("init", phases=ROOTFS_PHASES, rootfs=str(tmp_path), options=NODE, hooks=hooks)
    assert again.changed is False, [p.path for p in again.phases if p.status == "changed"]
    assert again.to_dict()["changed"] is False


def test_certs_renew_dry_run_does_not_say_renewed(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["init", "phase", "certs", "all", "--rootfs", str(tmp_path)]) == 0
    before = {p: p.read_bytes() for p in written(tmp_path)}
    capsys.readouterr()
    assert main(["certs", "renew", "all", "--dry-run", "--rootfs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    said = [ln for ln in out.splitlines() if "renewed" in ln]
    assert said and all("would be renewed" in ln or "Nothing was renewed" in ln for ln in said), said
    assert "Done renewing" not in out
    assert {p: p.read_bytes() for p in written(tmp_path)} == before
