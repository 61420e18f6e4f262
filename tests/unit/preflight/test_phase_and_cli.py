"""The preflight phase builders and the ``kubeadm-py preflight`` command (with a fake probe)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py.cli.commands import preflight as cli
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.errors import KubeadmError, PreflightError
from kubeadm_py.host.fake import FakeProbe
from kubeadm_py.host.probe import RealProbe
from kubeadm_py.hostfs import HostFS
from kubeadm_py.phases.context import RunContext
from kubeadm_py.phases.shared.preflight import preflight_phase
from kubeadm_py.preflight.checks import PreflightReport
from tests.unit import runctx
from tests.unit.runctx import Answer


def _cfg(**nodereg: Any) -> KubeadmConfig:
    return KubeadmConfig(
        cluster={"kubernetesVersion": "v1.20.2", "networking": {"serviceSubnet": "10.96.0.0/12"}},
        init={
            "localAPIEndpoint": {"advertiseAddress": "10.0.0.10", "bindPort": 6443},
            "nodeRegistration": {"name": "node-1", **nodereg},
        },
    )


def _ctx(
    tmp_path: Path,
    probe: FakeProbe,
    cfg: KubeadmConfig | None = None,
    *,
    prompt: Answer | None = None,
    workflow: str = "init",
    **opts: Any,
) -> tuple[RunContext[Any], list[str]]:
    hooks = Hooks(probe=probe, prompt=prompt, cri=probe.image_service)
    return runctx.build(cfg or _cfg(), tmp_path, workflow=workflow, hooks=hooks, **opts)


def test_phase_builders() -> None:
    for role in ("init", "join", "join-control-plane", "reset"):
        p = preflight_phase(role)  # type: ignore[arg-type]
        assert p.name == "preflight" and p.run is not None
        assert "ignore-preflight-errors" in p.flags
    assert "cri-socket" in preflight_phase("init").flags
    assert "force" in preflight_phase("reset").flags
    with pytest.raises(ValueError):
        preflight_phase("master")  # type: ignore[arg-type]


def test_phase_passes_and_logs(tmp_path: Path) -> None:
    ctx, logs = _ctx(tmp_path, FakeProbe())
    changes = preflight_phase("init").run(ctx)  # type: ignore[misc]
    assert logs[0] == "[preflight] Running pre-flight checks"
    assert isinstance(ctx.state.preflight_report, PreflightReport)
    assert changes and changes[0].kind == "note"


def test_phase_raises_preflight_error_with_kubeadm_message(tmp_path: Path) -> None:
    probe = FakeProbe(ports_in_use={6443: "kube-apiserver (pid 9) on :::6443"}, cpus=1)
    ctx, logs = _ctx(tmp_path, probe)
    with pytest.raises(PreflightError) as exc:
        preflight_phase("init").run(ctx)  # type: ignore[misc]
    msg = str(exc.value)
    assert msg.startswith("preflight checks failed: [ERROR NumCPU]: the number of available CPUs 1")
    assert "[ERROR Port-6443]: Port 6443 is in use by kube-apiserver (pid 9)" in msg
    assert msg.endswith("use --ignore-preflight-errors=... to ignore")
    assert "[preflight] Some fatal errors occurred:" in logs
    assert "\t[ERROR Port-6443]: Port 6443 is in use by kube-apiserver (pid 9) on :::6443" in logs


def test_phase_ignore_flag_and_config_union(tmp_path: Path) -> None:
    probe = FakeProbe(ports_in_use={6443: ""}, cpus=1)
    ctx, logs = _ctx(
        tmp_path, probe, _cfg(ignorePreflightErrors=["port-6443"]), ignore_preflight_errors=["NUMCPU"]
    )
    preflight_phase("init").run(ctx)  # type: ignore[misc]
    assert "\t[WARNING Port-6443]: Port 6443 is in use" in logs
    assert any(line.startswith("\t[WARNING NumCPU]") for line in logs)


def test_node_files_go_through_rootfs(tmp_path: Path) -> None:
    (tmp_path / "etc/kubernetes/manifests").mkdir(parents=True)
    (tmp_path / "etc/kubernetes/manifests/etcd.yaml").write_text("x")
    probe = RealProbe(HostFS(rootfs=tmp_path))
    from kubeadm_py.preflight.files import FileAvailable

    assert FileAvailable("/etc/kubernetes/manifests/etcd.yaml").run(probe)[1] == [
        "/etc/kubernetes/manifests/etcd.yaml already exists"
    ]
    assert FileAvailable("/etc/kubernetes/manifests/kube-apiserver.yaml").run(probe) == ([], [])


def test_join_with_control_plane_runs_control_plane_checks(tmp_path: Path) -> None:
    cfg = KubeadmConfig(
        cluster={},
        join={
            "controlPlane": {"localAPIEndpoint": {"bindPort": 6443}},
            "discovery": {"bootstrapToken": {"apiServerEndpoint": "10.0.0.1:6443"}},
            "nodeRegistration": {"name": "node-1"},
        },
    )
    ctx, _ = _ctx(tmp_path, FakeProbe(), cfg)
    preflight_phase("join").run(ctx)  # type: ignore[misc]
    names = [r.name for r in ctx.state.preflight_report.results]
    assert "NumCPU" in names and "FileAvailable--etc-kubernetes-pki-ca.crt" not in names


@pytest.mark.parametrize(("answer", "ok"), [(True, True), (False, False)])
def test_reset_confirmation(tmp_path: Path, answer: bool, ok: bool) -> None:
    operator = Answer(answer)
    ctx, _ = _ctx(tmp_path, FakeProbe(), prompt=operator, workflow="reset")
    if ok:
        preflight_phase("reset").run(ctx)  # type: ignore[misc]
    else:
        with pytest.raises(KubeadmError, match="aborted reset operation"):
            preflight_phase("reset").run(ctx)  # type: ignore[misc]
    assert operator.asked and "Are you sure you want to proceed? [y/N]" in operator.asked[0]


def test_reset_force_does_not_ask(tmp_path: Path) -> None:
    operator = Answer(False)
    ctx, _ = _ctx(tmp_path, FakeProbe(), prompt=operator, workflow="reset", force=True)
    preflight_phase("reset").run(ctx)  # type: ignore[misc]
    assert operator.asked == [], "asked although --force"


# --- the command, with the real probe swapped for a fake one -------------------------------------


@pytest.fixture
def fake_probe(monkeypatch: pytest.MonkeyPatch) -> FakeProbe:
    probe = FakeProbe(
        cpus=1, kernel_files={**FakeProbe().kernel_files, "/proc/sys/net/ipv4/ip_forward": b"0\n"}
    )
    monkeypatch.setattr("kubeadm_py.host.probe.RealProbe", lambda fs=None: probe)
    monkeypatch.setattr(cli, "_load_config", lambda config, role, overrides: _cfg())
    return probe


def test_cli_json_structure(fake_probe: FakeProbe) -> None:
    out = io.StringIO()
    report = cli.run_command("control-plane", None, "json", None, None, None, None, stream=out)
    data = json.loads(out.getvalue())
    assert set(data) == {"checks", "errors", "warnings"}
    assert all(set(c) == {"name", "result", "detail", "fix"} for c in data["checks"])
    by_name = {c["name"]: c for c in data["checks"]}
    assert by_name["NumCPU"]["result"] == "error"
    assert by_name["FileContent--proc-sys-net-ipv4-ip_forward"]["result"] == "error"
    assert data["errors"] == len(report.errors) == 2
    assert not report.ok


def test_cli_yaml_and_ignore(fake_probe: FakeProbe) -> None:
    out = io.StringIO()
    report = cli.run_command(
        "control-plane",
        ["NumCPU", "FileContent--proc-sys-net-ipv4-ip_forward"],
        "yaml",
        None,
        None,
        None,
        None,
        stream=out,
    )
    data = yaml.safe_load(out.getvalue())
    assert data["errors"] == 0 and report.ok
    assert {c["name"]: c["result"] for c in data["checks"]}["NumCPU"] == "ignored"


def test_cli_table(fake_probe: FakeProbe) -> None:
    out = io.StringIO()
    cli.run_command("worker", None, "text", None, None, None, None, stream=out)
    text = out.getvalue()
    assert "How to fix" in text and "FileAvailable--etc-kubernetes-kubelet.conf" in text
    assert "checks failed" in text or "no errors" in text


def test_cli_command_exits_nonzero_on_errors(
    fake_probe: FakeProbe, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(PreflightError):
        cli.preflight(
            role="control-plane",
            ignore_preflight_errors=[],
            output="json",
            config=None,
            cri_socket=None,
            kubernetes_version=None,
            rootfs=None,
        )
    cli.preflight(
        role="control-plane",
        ignore_preflight_errors=["all"],
        output="json",
        config=None,
        cri_socket=None,
        kubernetes_version=None,
        rootfs=None,
    )  # warnings only: no error


def test_cli_bad_input() -> None:
    with pytest.raises(KubeadmError, match="--role"):
        cli.run_command("master", None, "json", None, None, None, None)
    with pytest.raises(KubeadmError, match="--output"):
        cli.run_command("worker", None, "xml", None, None, None, None)


def test_dry_run_reports_errors_without_stopping(tmp_path: Path) -> None:
    probe = FakeProbe(ports_in_use={6443: "kube-apiserver (pid 9) on :::6443"})
    ctx, logs = _ctx(tmp_path / "root", probe, dry_run=True)
    changes = preflight_phase("init").run(ctx)  # type: ignore[misc]
    assert changes and "ignored in dry-run" in changes[0].detail
    assert any("[ERROR Port-6443]" in line for line in logs)
    assert any("a real run would stop here" in line for line in logs)
    # as a real run, which stops at those errors before pulling anything, it asks no image of the runtime
    assert "[preflight] Not pulling images: the checks above failed" in logs
    assert not [c for c in probe.calls if c.startswith(("pull", "status"))]


def test_dry_run_reset_asks_nothing(tmp_path: Path) -> None:
    operator = Answer(False)
    ctx, _ = _ctx(tmp_path / "root", FakeProbe(), prompt=operator, workflow="reset", dry_run=True)
    preflight_phase("reset").run(ctx)  # type: ignore[misc]
    assert operator.asked == [], "a dry run changes nothing, so it asks nothing"
