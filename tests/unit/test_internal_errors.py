"""A bug in kubeadm-py is not reported as a user error: the run stops with an InternalError
(exit code 70 on the command line), and its traceback is kept in the node's run journal."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kubeadm_py import api
from kubeadm_py.effectors.bundle import Hooks
from kubeadm_py.errors import InternalError
from kubeadm_py.kube.client import KubeClient, RetryPolicy


def _broken_client(path: str, display_path: str, retry: RetryPolicy | None) -> KubeClient:
    raise ZeroDivisionError("a bug in the client factory")


def test_internal_error_keeps_its_traceback_in_the_journal(tmp_path: Path) -> None:
    with pytest.raises(InternalError) as exc:
        api.run(
            "init",
            rootfs=str(tmp_path),
            phases=["certs", "kubeconfig", "upload-config/kubeadm"],
            hooks=Hooks(kubeconfig_client=_broken_client),
        )
    assert exc.value.exit_code == 70
    assert str(exc.value).startswith(
        "phase upload-config/kubeadm: internal error: ZeroDivisionError: a bug in the client factory"
    )
    journal = json.loads((tmp_path / "etc/kubernetes/tmp/kubeadm-py-init.json").read_text())
    last = journal[-1]
    assert "ZeroDivisionError: a bug in the client factory" in last["traceback"]
    assert "_broken_client" in last["traceback"]
    assert [p["status"] for p in last["phases"] if p["phase"] == "upload-config/kubeadm"] == ["failed"]


def test_cli_exit_code_for_an_internal_error(tmp_path: Path) -> None:
    """Outside a phase too: an unexpected exception is one line, exit 70, traceback only with -v."""
    code = (
        "import sys; from kubeadm_py.cli import main as m; import kubeadm_py.cli.fastpath as f\n"
        "def boom(args): raise ZeroDivisionError('x')\n"
        "f.run = boom\n"
        f"sys.exit(m.main(['init', 'phase', 'certs', 'ca', '--rootfs', {str(tmp_path)!r}] + sys.argv[1:]))\n"
    )
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 70
    assert r.stderr.strip().splitlines() == [
        "error: internal error: ZeroDivisionError: x "
        "(this is a bug in kubeadm-py; run with -v for the traceback)"
    ]
    r = subprocess.run([sys.executable, "-c", code, "-v"], capture_output=True, text=True)
    assert r.returncode == 70 and "Traceback (most recent call last)" in r.stderr
