"""The CLI binder: each generated command exposes exactly its phases' flags."""

from __future__ import annotations

from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from kubeadm_py.cli.bind import bind_workflow
from kubeadm_py.workflow.phase import Phase

TREE = (
    Phase("preflight", "Run checks", run=lambda c: None, flags=("ignore-preflight-errors", "dry-run")),
    Phase(
        "certs",
        "Certificate generation",
        children=(
            Phase("ca", "The CA", run=lambda c: None, flags=("cert-dir",)),
            Phase("apiserver", "API server cert", run=lambda c: None, flags=("cert-dir", "service-cidr")),
        ),
    ),
    Phase("hidden", "Hidden", run=lambda c: None, hidden=True),
)


def make_app() -> tuple[typer.Typer, list[tuple[dict[str, Any], list[str] | None]]]:
    calls: list[tuple[dict[str, Any], list[str] | None]] = []
    app = typer.Typer()

    @app.command("version")
    def version() -> None:
        pass

    bind_workflow(app, "init", "Set up", TREE, ("config",), lambda kw, only: calls.append((kw, only)), "tree")
    return app, calls


def flags_of(app: typer.Typer, *path: str) -> set[str]:
    import typer.main

    cmd: Any = typer.main.get_command(app)
    for p in path:
        cmd = cmd.commands[p]
    return {o for p in cmd.params for o in p.opts if o.startswith("--")} - {"--help"}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (("init", "phase", "preflight"), {"--ignore-preflight-errors", "--dry-run", "--rootfs"}),
        (("init", "phase", "certs", "ca"), {"--cert-dir", "--rootfs"}),
        (("init", "phase", "certs", "apiserver"), {"--cert-dir", "--service-cidr", "--rootfs"}),
        (("init", "phase", "certs", "all"), {"--cert-dir", "--service-cidr", "--rootfs"}),
    ],
)
def test_phase_command_flags(path: tuple[str, ...], expected: set[str]) -> None:
    app, _ = make_app()
    assert flags_of(app, *path) == expected | {"--output", "--verbose"}


def test_workflow_command_flags() -> None:
    app, _ = make_app()
    assert flags_of(app, "init") == {
        "--config",
        "--rootfs",
        "--skip-phases",
        "--dry-run",
        "--output",
        "--verbose",
    }


def test_hidden_phase_has_no_command() -> None:
    import typer.main

    app, _ = make_app()
    phase_group: Any = typer.main.get_command(app).commands["init"].commands["phase"]  # type: ignore[attr-defined]
    assert set(phase_group.commands) == {"preflight", "certs"}


@pytest.mark.parametrize(
    ("argv", "only", "values"),
    [
        (
            ["init", "--config", "c.yaml", "--skip-phases", "a,b"],
            None,
            {"config": "c.yaml", "skip_phases": ["a,b"], "dry_run": None},
        ),
        (
            ["init", "phase", "certs", "ca", "--cert-dir", "/x"],
            ["certs/ca"],
            {"cert_dir": "/x", "rootfs": None},
        ),
        (
            ["init", "phase", "certs", "all", "--service-cidr", "10.0.0.0/16"],
            ["certs"],
            {"service_cidr": "10.0.0.0/16"},
        ),
        (["init", "phase", "preflight", "--dry-run"], ["preflight"], {"dry_run": True}),
    ],
)
def test_invocation(argv: list[str], only: list[str] | None, values: dict[str, Any]) -> None:
    app, calls = make_app()
    result = CliRunner().invoke(app, argv)
    assert result.exit_code == 0, result.output
    ((kwargs, got_only),) = calls
    assert got_only == only
    for k, v in values.items():
        assert kwargs[k] == v


def test_flag_not_used_by_phase_is_rejected() -> None:
    app, calls = make_app()
    result = CliRunner().invoke(app, ["init", "phase", "certs", "ca", "--service-cidr", "10.0.0.0/16"])
    assert result.exit_code == 2
    assert "No such option" in result.output
    assert calls == []


def test_help_shows_phase_tree() -> None:
    app, _ = make_app()
    result = CliRunner().invoke(app, ["init", "--help"])
    assert "executes the following phases" in result.output and "tree" in result.output
