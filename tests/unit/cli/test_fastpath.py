"""The typer-free fast path parses workflow command lines exactly as the typer app does, and hands
everything else to typer."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from kubeadm_py import workflows
from kubeadm_py.cli import fastpath
from kubeadm_py.cli.bind import phase_flags, workflow_flags
from kubeadm_py.options import FLAGS

REPO = Path(__file__).resolve().parents[3]


def commands() -> list[tuple[list[str], list[str]]]:
    """(command words, flag names) of every workflow and phase command the fast path serves."""
    out: list[tuple[list[str], list[str]]] = []
    for name in fastpath.WORKFLOWS:
        wf = workflows.get(name)
        if not wf.arguments:
            out.append(([name], workflow_flags(wf.flags)))

        def walk(phases: Any, words: list[str]) -> None:
            for p in phases:
                if p.hidden:
                    continue
                if not p.children:
                    out.append(([*words, p.name], phase_flags(p)))
                    continue
                if p.all_command:
                    out.append(([*words, p.name, "all"], phase_flags(p)))
                walk(p.children, [*words, p.name])

        walk(wf.phases(), [name, "phase"])
    return out


def every_option(flags: list[str]) -> list[str]:
    args: list[str] = []
    for i, n in enumerate(flags):
        spec = FLAGS[n]
        if spec.type is bool:  # bare (true) and Go-style values, as kubeadm takes them
            args.append(f"--{n}" + ("", "=false", "=T", "=0", "=TRUE", "=f")[i % 6])
        elif spec.type is int:
            args.append(f"--{n}={7 + i}")
        elif spec.type is list:
            args += [f"--{n}", f"a{i},b", f"--{n}=c{i}"]
        elif i % 2:
            args.append(f"--{n}=v{i}")
        else:
            args += [f"--{n}", f"v{i}"]
    return args


def typer_parse(monkeypatch: pytest.MonkeyPatch, args: list[str]) -> tuple[str, Any, dict[str, Any]]:
    seen: dict[str, Any] = {}

    def invoker(name: str) -> Any:
        def invoke(kwargs: dict[str, Any], only: Any) -> None:
            seen.update(workflow=name, only=only, kwargs=dict(kwargs))

        return invoke

    monkeypatch.setattr("kubeadm_py.cli.run.workflow_invoker", invoker)
    from kubeadm_py.cli.app import command

    command(args).main(args=args, prog_name="kubeadm-py", standalone_mode=False)
    return seen["workflow"], seen["only"], seen["kwargs"]


CASES = commands()


def test_covers_every_phase_command() -> None:
    from kubeadm_py.cli.app import WORKFLOW_HELP

    assert set(fastpath.WORKFLOWS) == set(WORKFLOW_HELP)
    words = {" ".join(w) for w, _ in CASES}
    assert {"init", "init phase certs all", "init phase certs ca", "reset", "join phase preflight"} <= words


@pytest.mark.parametrize(("words", "flags"), CASES, ids=[" ".join(w) for w, _ in CASES])
def test_same_kwargs_as_typer(monkeypatch: pytest.MonkeyPatch, words: list[str], flags: list[str]) -> None:
    for args in (
        words,
        [*words, *every_option(flags), "-o", "json", "-v"],
        [*words, "--output=yaml", *every_option(list(reversed(flags)))],
    ):
        fast = fastpath.parse(args)
        assert fast is not None, args
        wf, only, kwargs = typer_parse(monkeypatch, args)
        assert (fast.workflow, fast.only) == (wf, only), args
        assert fast.kwargs == kwargs, args


@pytest.mark.parametrize(
    "args",
    [
        [],
        ["version"],
        ["init", "--help"],
        ["init", "phase", "certs", "all", "-h"],
        ["init", "phase", "certs"],
        ["init", "phase", "nope"],
        ["init", "phase", "certs", "all", "extra"],
        ["init", "phase", "certs", "all", "--no-such-flag"],
        ["init", "phase", "certs", "all", "--config"],
        ["init", "phase", "certs", "all", "--config", "a", "--config", "b"],
        ["init", "phase", "certs", "all", "--dry-run=yes"],
        ["init", "phase", "certs", "all", "--dry-run=tRuE"],
        ["init", "phase", "certs", "all", "--dry-run", "--dry-run=false"],
        ["init", "phase", "certs", "all", "--config", "--dry-run"],
        ["init", "--apiserver-bind-port", "x1"],
        ["init", "--apiserver-bind-port", "007"],
        ["init", "--", "--config", "a"],
        ["init", "-ojson"],
        ["join", "10.0.0.1:6443", "--token", "abcdef.0123456789abcdef"],
    ],
)
def test_leaves_the_rest_to_typer(args: list[str]) -> None:
    assert fastpath.parse(args) is None


def test_stdin_config_value_is_accepted() -> None:
    parsed = fastpath.parse(["init", "phase", "certs", "all", "--config", "-"])
    assert parsed is not None and parsed.kwargs["config"] == "-"


def test_command_runs_without_typer_or_pydantic(tmp_path: Path) -> None:
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        "apiVersion: kubeadm.k8s.io/v1beta4\nkind: InitConfiguration\nnodeRegistration:\n  name: n1\n"
        "localAPIEndpoint:\n  advertiseAddress: 10.0.0.1\n---\napiVersion: kubeadm.k8s.io/v1beta4\n"
        "kind: ClusterConfiguration\nencryptionAlgorithm: ECDSA-P256\n"
    )
    code = (
        "import sys; from kubeadm_py.cli.main import main; rc = main(sys.argv[1:]); "
        "print('LOADED', 'typer' in sys.modules, 'pydantic' in sys.modules); sys.exit(rc)"
    )
    root = tmp_path / "root"
    root.mkdir()
    args = ["init", "phase", "certs", "ca", "--rootfs", str(root), "--config", str(cfg)]
    r = subprocess.run(
        [sys.executable, "-c", code, *args],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    assert r.returncode == 0, r.stderr
    assert "LOADED False False" in r.stdout
    assert (root / "etc/kubernetes/pki/ca.crt").exists()
    assert '[certs] Generating "ca" certificate and key' in r.stdout
