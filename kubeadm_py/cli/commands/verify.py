"""``kubeadm-py verify [--node | --cluster] [--workload] [--wait DURATION] [-o text|json|yaml]``: a
health gate. Prints a table of the checks (name, scope, status, detail), then one line per problem
with how to fix it; exit 0 only when healthy (warnings, such as Nodes NotReady only because no pod
network is installed, do not fail unless ``--strict``)."""

from __future__ import annotations

import sys
from typing import IO, TYPE_CHECKING

import typer

if TYPE_CHECKING:
    from kubeadm_py.verify.model import Report

_MARK = {"pass": "ok", "warn": "WARN", "fail": "FAIL", "skip": "skip"}


def render_text(report: Report, out: IO[str]) -> None:
    rows = [("CHECK", "SCOPE", "STATUS", "DETAIL")] + [
        (r.name, r.scope, _MARK[r.status], r.detail) for r in report.results
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        out.write("  ".join(c.ljust(widths[i]) for i, c in enumerate(row[:3])) + "  " + row[3] + "\n")
    for note in report.notes:
        out.write(f"note: {note}\n")
    for r in report.results:
        for p in r.problems:
            out.write(f"[{'warning' if p.warning else 'problem'}] {r.name}: {p.line()}\n")
    state = "healthy" if report.healthy else "NOT healthy"
    tries = f" after {report.attempts} attempts ({report.seconds:.0f}s)" if report.attempts > 1 else ""
    out.write(f"verify: {state}{tries}\n")


def verify(
    node: bool = typer.Option(False, "--node", help="Only the checks of this node."),
    cluster: bool = typer.Option(False, "--cluster", help="Only the cluster checks."),
    workload: bool = typer.Option(
        False, "--workload", help="Also run a short-lived host-network Pod per Node (scheduling, logs, exec)."
    ),
    wait: str = typer.Option(
        "0s", "--wait", help="Check again until healthy or this duration passed (e.g. 5m)."
    ),
    strict: bool = typer.Option(False, "--strict", help="Warnings fail too (e.g. no pod network yet)."),
    output: str = typer.Option("text", "--output", "-o", help="Output format: text, json or yaml."),
    kubeconfig: str = typer.Option(
        None, "--kubeconfig", help="The admin kubeconfig [default: /etc/kubernetes/admin.conf]."
    ),
    config: str = typer.Option(None, "--config", help="A kubeadm configuration file (node-local settings)."),
    workload_image: str = typer.Option(
        "", "--workload-image", help="Image of the workload Pods [default: the cluster's pause image]."
    ),
    rootfs: str = typer.Option(None, "--rootfs", help="Host paths live under this directory."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Accepted; verify only reads (but --workload)."),
) -> None:
    """Check that this node and the cluster are healthy; exit 0 only when they are."""
    from kubeadm_py import api
    from kubeadm_py.cli.render import check_output_format, dump
    from kubeadm_py.durations import duration_seconds
    from kubeadm_py.errors import KubeadmError

    fmt = check_output_format(output)
    if node and cluster:
        raise KubeadmError("--node and --cluster exclude each other", hint="give neither for both")
    seconds = duration_seconds(wait, "--wait")
    scope = "node" if node else ("cluster" if cluster else None)

    class _Log:
        def message(self, text: str) -> None:
            print(text, file=sys.stderr)

    report = api.verify(
        scope,
        workload=workload,
        wait=seconds,
        strict=strict,
        kubeconfig=kubeconfig,
        config=config,
        rootfs=rootfs,
        workload_image=workload_image,
        dry_run=dry_run,
        reporter=_Log(),  # type: ignore[arg-type]
    )
    if fmt == "text":
        render_text(report, sys.stdout)
    else:
        dump(report.to_dict(), fmt)
    if not report.healthy:
        bad = sum(1 for r in report.results if r.status == "fail" or (strict and r.status == "warn"))
        raise KubeadmError(f"verify: {bad} check(s) failed", hint="see the problem lines above")
