"""``kubeadm-py etcd snapshot save|status|restore``. Thin: the work is in
:mod:`kubeadm_py.snapshots.commands`."""

from __future__ import annotations

import typer

from kubeadm_py.cli.jsonpath import OUTPUT_HELP

app = typer.Typer(help="etcd utilities", no_args_is_help=True, rich_markup_mode=None, add_completion=False)
snapshot_app = typer.Typer(
    help="Save, check and restore etcd snapshots", no_args_is_help=True, rich_markup_mode=None
)
app.add_typer(snapshot_app, name="snapshot")

CertDirOpt = typer.Option("/etc/kubernetes/pki", "--cert-dir", help="Where the node's certificates are.")
ManifestsOpt = typer.Option(
    "/etc/kubernetes/manifests", "--manifests-dir", help="Where the node's static Pod manifests are."
)
RootfsOpt = typer.Option(None, "--rootfs", help="Host paths live under this directory.")
ToolOpt = typer.Option(
    None, "--etcd-tool", help="etcd's own tool for status and restore (default: etcdutl or etcdctl on PATH)."
)
OutputOpt = typer.Option("text", "--output", "-o", help=OUTPUT_HELP)


def _fs(rootfs: str | None):  # type: ignore[no-untyped-def]
    from kubeadm_py.hostfs import HostFS

    return HostFS(rootfs=rootfs)


@app.callback()
def _group() -> None:
    """etcd utilities."""


@snapshot_app.command("save")
def save(
    file: str = typer.Argument(..., help="Where to write the snapshot (mode 0600: it holds every Secret)."),
    endpoints: str | None = typer.Option(
        None, "--endpoints", help="Comma-separated etcd client URLs (default: this node's etcd member)."
    ),
    cert_dir: str = CertDirOpt,
    manifests_dir: str = ManifestsOpt,
    rootfs: str | None = RootfsOpt,
    output: str = OutputOpt,
) -> None:
    """Save a snapshot of etcd's keyspace over the v3 API (integrity hash checked)."""
    from kubeadm_py.cli.render import check_output_format, dump
    from kubeadm_py.snapshots.commands import save as save_snapshot

    fmt = check_output_format(output)
    eps = [e.strip() for e in endpoints.split(",") if e.strip()] if endpoints else None
    facts, endpoint = save_snapshot(
        _fs(rootfs), file, cert_dir=cert_dir, manifests_dir=manifests_dir, endpoints=eps
    )
    if fmt == "text":
        typer.echo(f"Snapshot saved at {facts.path} ({facts.size} bytes from {endpoint})")
        typer.echo(f"sha256: {facts.sha256}")
    else:
        dump({**facts.to_dict(), "endpoint": endpoint}, fmt)


@snapshot_app.command("status")
def status(
    file: str = typer.Argument(..., help="The snapshot file."),
    etcd_tool: str | None = ToolOpt,
    output: str = OutputOpt,
) -> None:
    """Check a snapshot's integrity; show its revision and key count (with etcd's tool)."""
    from kubeadm_py.cli.render import check_output_format, dump
    from kubeadm_py.snapshots.commands import status as snapshot_status

    fmt = check_output_format(output)
    doc = snapshot_status(file, etcd_tool)
    if fmt != "text":
        dump(doc, fmt)
        return
    for key, value in doc.items():
        if value is not None:
            typer.echo(f"{key}: {value}")


@snapshot_app.command("restore")
def restore(
    file: str = typer.Argument(..., help="The snapshot file."),
    data_dir: str | None = typer.Option(
        None, "--data-dir", help="The member's data directory (default: from the node's etcd manifest)."
    ),
    name: str | None = typer.Option(None, "--name", help="The member name (default: from the manifest)."),
    peer_url: str | None = typer.Option(
        None, "--initial-advertise-peer-urls", help="The member's peer URL (default: from the manifest)."
    ),
    initial_cluster: str | None = typer.Option(
        None, "--initial-cluster", help="The new cluster's members (default: this member alone)."
    ),
    manifests_dir: str = ManifestsOpt,
    etcd_tool: str | None = ToolOpt,
    rootfs: str | None = RootfsOpt,
    dry_run: bool = typer.Option(False, "--dry-run", help="Check everything and print what would run."),
) -> None:
    """Restore this node's etcd member from a snapshot as a new cluster: etcd is stopped (its
    manifest parked), its data replaced (the old member directory kept in the data directory), and
    started again.
    With --data-dir, --name and --initial-advertise-peer-urls the member must be stopped already."""
    from kubeadm_py.snapshots.commands import plan_restore
    from kubeadm_py.snapshots.commands import restore as run_restore

    fs = _fs(rootfs)
    plan = plan_restore(
        fs,
        file,
        manifests_dir=manifests_dir,
        data_dir=data_dir,
        name=name,
        peer_url=peer_url,
        initial_cluster=initial_cluster,
        etcd_tool=etcd_tool,
    )
    if dry_run:
        if plan.manifest:
            typer.echo(f"[dryrun] Would stop etcd: move {plan.manifest} to {plan.parked} and wait")
        typer.echo(f"[dryrun] Would run: {' '.join(plan.command)}")
        typer.echo(f"[dryrun] Would swap the result in as {plan.data_dir}/member (the old one is kept)")
        return
    result = run_restore(fs, plan, log=typer.echo)
    typer.echo(f"Restored {file} into {plan.data_dir} as member {plan.name} of {plan.initial_cluster}")
    if result.previous:
        typer.echo(f"The previous member directory is kept at {result.previous}")
    if not plan.manifest:
        typer.echo("Start etcd again. ", nl=False)
    typer.echo("Other members of the old cluster must be reset and joined again.")
