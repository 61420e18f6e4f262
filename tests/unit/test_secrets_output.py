"""Secrets only where asked: with ``--skip-token-print --skip-certificate-key-print`` the token
secret and the certificate key appear nowhere a run emits (progress lines, ``-o json|yaml``, the
run journal, an error), and without them ``-o json`` carries both (the grep below can find them)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py import api
from kubeadm_py.cli import render
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.effectors.waiting import Waiter
from kubeadm_py.errors import KubeadmError
from tests.unit.cluster.fakeapi import FakeAPIServer
from tests.unit.runctx import Logs

TOKEN_ID, TOKEN_SECRET = "abcdef", "0123456789abcdef"
KEY = "0f" * 32
PHASES = [
    "certs", "kubeconfig", "etcd", "control-plane", "upload-config", "upload-certs",
    "mark-control-plane", "bootstrap-token", "kubelet-finalize", "addon", "show-join-command",
]  # fmt: skip
NODE = {
    "apiserver-advertise-address": "10.0.0.1",
    "control-plane-endpoint": "10.0.0.1:6443",
    "node-name": "cp-1",
    "kubernetes-version": "v1.20.2",
    "token": f"{TOKEN_ID}.{TOKEN_SECRET}",
    "certificate-key": KEY,
    "upload-certs": True,
}
SKIP = {"skip-token-print": True, "skip-certificate-key-print": True}


def _run(
    root: Path,
    options: dict[str, Any],
    phases: list[str] = PHASES,
    logs: Logs | None = None,
    forbid: tuple[str, str] | None = None,
) -> tuple[str, list[str]]:
    """Runs init's phases on ``root`` against an in-memory API server (refusing ``forbid``:
    (METHOD, plural)); returns what ``-o json`` and ``-o yaml`` print, and the progress lines."""
    server = FakeAPIServer()
    server.put({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "cp-1", "labels": {}}, "spec": {}})
    if forbid:
        server.forbid.add(forbid)
    logs = logs or Logs()
    hooks = Hooks(
        waiter=Waiter(max_timeout=0.2, max_interval=0.01),
        kubeconfig_client=lambda path, shown, retry: server.client(),
    )
    report = api.run("init", phases=phases, rootfs=str(root), options=options, reporter=logs, hooks=hooks)
    printed = []
    for fmt in ("json", "yaml"):
        out = io.StringIO()
        render.dump(report.to_dict(), fmt, out)
        printed.append(out.getvalue())
    return "\n".join(printed), logs.lines


def _emitted(root: Path) -> str:
    return (root / "etc/kubernetes/tmp/kubeadm-py-init.json").read_text()


def test_skip_flags_withhold_the_secrets_everywhere(tmp_path: Path) -> None:
    printed, lines = _run(tmp_path, {**NODE, **SKIP})
    everything = "\n".join([printed, *lines, _emitted(tmp_path)])
    assert "kubeadm-py join 10.0.0.1:6443 --token <value withheld>" in printed
    assert "--certificate-key <value withheld>" in printed
    assert TOKEN_SECRET not in everything
    assert KEY not in everything
    outputs = json.loads(printed[: printed.index("\n}\n") + 2])["outputs"]
    assert outputs["token"] == outputs["certificate_key"] == "<value withheld>"


def test_without_skip_flags_the_report_carries_the_secrets(tmp_path: Path) -> None:
    printed, lines = _run(tmp_path, NODE)
    assert f"--token {TOKEN_ID}.{TOKEN_SECRET}" in printed and f"--certificate-key {KEY}" in printed
    assert TOKEN_SECRET not in _emitted(tmp_path)  # the journal never holds them
    assert KEY not in _emitted(tmp_path)


def test_a_failed_run_keeps_the_secrets_out_of_the_error(tmp_path: Path) -> None:
    """A run failing after both secrets are in use: bootstrap-token may not create ConfigMaps."""
    logs = Logs()
    with pytest.raises(KubeadmError) as exc:
        phases = [p for p in PHASES if p != "upload-config"]
        _run(tmp_path, {**NODE, **SKIP}, phases, logs, ("POST", "configmaps"))
    report = getattr(exc.value, "report", None)
    assert report is not None and report.outcome("upload-certs").status == "changed"
    assert str(exc.value).startswith("phase bootstrap-token: ")
    everything = "\n".join([str(exc.value), json.dumps(report.to_dict()), *logs.lines, _emitted(tmp_path)])
    assert TOKEN_SECRET not in everything and KEY not in everything


@pytest.mark.parametrize(
    ("workflow", "options"),
    [
        ("init", {"token": "abcdef.0123456789ABCDEf"}),
        ("init", {"certificate-key": "0f" * 31 + "zz", "upload-certs": True}),
        ("join", {"token": "abcdef.0123456789ABCDEf", "discovery-token-unsafe-skip-ca-verification": True}),
    ],
    ids=["init-token", "init-certificate-key", "join-token"],
)
def test_a_mistyped_secret_is_not_echoed(tmp_path: Path, workflow: str, options: dict[str, Any]) -> None:
    """A token or key with one wrong character is nearly the secret: the error names the field only."""
    if workflow == "join":
        options = {**options, "api-server-endpoint": "10.0.0.1:6443"}
    with pytest.raises(KubeadmError) as exc:
        api.run(workflow, rootfs=str(tmp_path), options=options, dry_run=True)
    assert "the value (withheld: a secret) is not a valid" in str(exc.value)
    assert "0123456789ABCDEf" not in str(exc.value) and "0f0f" not in str(exc.value)


def test_a_malformed_token_is_not_echoed() -> None:
    from kubeadm_py.tokens.model import TokenError, TokenString

    with pytest.raises(TokenError, match="^the bootstrap token was not of the form") as exc:
        TokenString.parse("abcdef.0123456789ABCDEf")
    assert "0123456789ABCDEf" not in str(exc.value)
