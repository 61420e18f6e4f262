"""``kubeadm-py preflight``: validate this node before changing anything.

Runs the same checks as ``init``/``join`` preflight (upstream names, same ignore semantics) and
prints a table (check, result, detail, how to fix) or ``-o json|yaml``::

    {"checks": [{"name": str, "result": "pass|warning|error|ignored", "detail": str, "fix": str}],
     "errors": N, "warnings": N}

Exit status 1 when a check failed and was not ignored; warnings never fail. Heavy libraries
(rich, yaml, psutil) are imported inside the functions."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING, Any

import typer

from kubeadm_py.cli.jsonpath import OUTPUT_HELP

if TYPE_CHECKING:
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.preflight.checks import PreflightReport

ROLE_CHOICES = ("control-plane", "worker", "init", "join", "join-control-plane", "reset")
_STYLE = {"pass": "green", "warning": "yellow", "ignored": "magenta", "error": "bold red"}


def render_table(report: PreflightReport, stream: IO[str] | None = None, title: str = "") -> None:
    """The rich table: one row per check, then a summary line."""
    from rich.console import Console
    from rich.table import Table

    console = Console(file=stream or sys.stdout, highlight=False, soft_wrap=False)
    if not console.is_terminal:
        console.width = 200  # pipes and files: keep one line per row where possible
    table = Table(title=title or None, show_lines=False, expand=False)
    table.add_column("Check", no_wrap=True)
    table.add_column("Result", no_wrap=True)
    table.add_column("Detail", overflow="fold")
    table.add_column("How to fix", overflow="fold")
    for r in report.results:
        table.add_row(r.name, f"[{_STYLE[r.result]}]{r.result}[/]", _escape(r.detail), _escape(r.fix))
    console.print(table)
    d = report.to_dict()
    n = len(report.results)
    if report.ok:
        console.print(f"[green]{n} checks: no errors[/], {d['warnings']} with warnings.")
    else:
        console.print(
            f"[bold red]{d['errors']} of {n} checks failed[/], {d['warnings']} with warnings. "
            "Fix them, or ignore by name with --ignore-preflight-errors=<Name>,... ('all' ignores all)."
        )


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)


def _load_config(config: str | None, role: str, overrides: dict[str, Any]) -> KubeadmConfig | None:
    """Load through the config library when it is available; without --config and without the
    library, the checks use kubeadm's defaults (NodeFacts)."""
    kind = "join" if role.startswith("join") else ("reset" if role == "reset" else "init")
    if config is None and kind == "join":
        return None  # a JoinConfiguration needs discovery settings; the worker checks do not
    try:
        from kubeadm_py import api

        return api.load_config(config, kind=kind, overrides=overrides)
    except ImportError:
        if config is None:
            return None
        from kubeadm_py.errors import KubeadmError

        raise KubeadmError("cannot load --config: the configuration library is not installed") from None


def run_command(
    role: str,
    ignore: list[str] | None,
    output: str,
    config: str | None,
    cri_socket: str | None,
    rootfs: str | None,
    kubernetes_version: str | None,
    stream: IO[str] | None = None,
) -> PreflightReport:
    """The command's work, without typer: returns the report after printing it."""
    from kubeadm_py.cli.render import check_output_format, dump
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.host.probe import RealProbe
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.preflight import config_ignore_list
    from kubeadm_py.preflight.checks import ignore_set, run_checks
    from kubeadm_py.preflight.roles import ROLE_ALIASES, NodeFacts, checks_for_role, facts_from_config

    if role not in ROLE_CHOICES:
        raise KubeadmError(f"--role: unknown role {role!r}", hint="use control-plane or worker")
    check_output_format(output)
    role = ROLE_ALIASES.get(role, role)
    doc = "join" if role.startswith("join") else "init"
    overrides: dict[str, Any] = {}
    if cri_socket:
        overrides[f"{doc}.nodeRegistration.criSocket"] = cri_socket
    if kubernetes_version:
        overrides["cluster.kubernetesVersion"] = kubernetes_version
    cfg = _load_config(config, role, overrides)
    if cfg is not None:
        facts = facts_from_config(cfg, role)
        cfg_ignore = config_ignore_list(cfg, role)
    else:
        facts = NodeFacts(cri_socket=cri_socket or "")
        if kubernetes_version:
            facts.kubernetes_version = kubernetes_version
        cfg_ignore = []
    ignores = ignore_set(ignore, cfg_ignore)
    report = run_checks(checks_for_role(role, facts), RealProbe(HostFS(rootfs=rootfs)), ignores)
    out = stream or sys.stdout
    if output == "text":
        render_table(report, out, title=f"preflight checks ({role})")
    else:
        dump(report.to_dict(), output, out)
    return report


def preflight(
    role: str = typer.Option(
        "control-plane", "--role", help="control-plane (init checks) or worker (join checks)."
    ),
    ignore_preflight_errors: list[str] = typer.Option(
        None,
        "--ignore-preflight-errors",
        help="Checks whose errors are shown as warnings, e.g. 'Swap,NumCPU'; 'all' ignores all.",
    ),
    output: str = typer.Option("text", "--output", "-o", help=OUTPUT_HELP),
    config: str = typer.Option(None, "--config", help="Path to a kubeadm configuration file."),
    cri_socket: str = typer.Option(None, "--cri-socket", help="The CRI socket (default: auto-detect)."),
    kubernetes_version: str = typer.Option(
        None, "--kubernetes-version", help="Target Kubernetes version (version-dependent checks)."
    ),
    rootfs: str = typer.Option(None, "--rootfs", help="Node files (/etc/kubernetes, ...) live here."),
) -> None:
    """Check that this node is ready to become a control plane or a worker, without changing it."""
    report = run_command(
        role, ignore_preflight_errors, output, config, cri_socket, rootfs, kubernetes_version
    )
    if not report.ok:
        raise report.error()


def main() -> None:
    """Run the command on its own: ``python -m kubeadm_py.cli.commands.preflight``."""
    app = typer.Typer(add_completion=False, rich_markup_mode=None, pretty_exceptions_enable=False)
    app.command()(preflight)
    from kubeadm_py.errors import KubeadmError

    try:
        app(standalone_mode=False)
    except KubeadmError as e:
        print(f"error: {e}", file=sys.stderr)
        sys.exit(e.exit_code)
    except typer.Exit as e:
        sys.exit(e.exit_code)


if __name__ == "__main__":
    main()
