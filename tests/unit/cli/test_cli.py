"""The command line as a user meets it: exit codes, one-line errors, version output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import yaml

from kubeadm_py import __version__
from kubeadm_py.cli.main import main
from kubeadm_py.cli.version import fast_version_output


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "kubeadm_py", *args], capture_output=True, text=True, timeout=120
    )


def test_version_json_and_yaml_and_short() -> None:
    j = json.loads(run_cli("version", "-o", "json").stdout)
    assert j["clientVersion"]["gitVersion"] == f"v{__version__}"
    y = yaml.safe_load(run_cli("version", "--output=yaml").stdout)
    assert y == j
    assert run_cli("version", "-o", "short").stdout.strip() == f"v{__version__}"


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["version"], ""),
        (["version", "-o", "json"], "json"),
        (["version", "-ojson"], "json"),
        (["version", "--output=yaml"], "yaml"),
        (["version", "--bogus"], None),
        (["init"], None),
        ([], None),
    ],
)
def test_fast_version_parsing(args: list[str], expected: str | None) -> None:
    assert fast_version_output(args) == expected


def test_bad_version_output_is_one_line_error() -> None:
    r = run_cli("version", "-o", "xml")
    assert r.returncode == 1
    assert r.stderr.strip().splitlines() == [
        "error: --output: unknown format 'xml' (use short, json or yaml)"
    ]
    assert "Traceback" not in r.stderr


def test_unknown_command_is_usage_error() -> None:
    r = run_cli("frobnicate")
    assert r.returncode == 1
    assert r.stderr.splitlines() == ["error: No such command 'frobnicate'. (see 'kubeadm-py --help')"]


def test_root_help_lists_commands() -> None:
    r = run_cli("--help")
    assert r.returncode == 0
    for cmd in ("init", "version", "certs", "kubeconfig", "token", "config", "preflight"):
        assert f"  {cmd}" in r.stdout


def test_error_boundary_hides_traceback_unless_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["init", "phase", "preflight", "--config", "/nonexistent/kubeadm.yaml"])
    err = capsys.readouterr().err
    assert rc == 1
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1
    assert "/nonexistent/kubeadm.yaml" in err
    rc = main(["init", "phase", "preflight", "--config", "/nonexistent/kubeadm.yaml", "-v"])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" in err
