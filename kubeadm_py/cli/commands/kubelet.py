"""``kubeadm-py kubelet install-unit``: the kubelet's systemd unit and kubeadm's drop-in for nodes
that got kubeadm-py from PyPI (:mod:`kubeadm_py.kubelet.unit` does the work)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Manage the kubelet's systemd unit on this node",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


@app.command("install-unit")
def install_unit(
    kubelet_path: str | None = typer.Option(
        None,
        "--kubelet-path",
        help="The kubelet binary the unit starts [default: /usr/bin/kubelet, else /usr/local/bin/kubelet "
        "when only that exists].",
    ),
    rootfs: str | None = typer.Option(None, "--rootfs", help="Host paths live under this directory."),
    dry_run: bool = typer.Option(
        False, "--dry-run", help="Do not change any state, just show what would be done."
    ),
) -> None:
    """Write kubelet.service and kubeadm's drop-in kubelet.service.d/10-kubeadm.conf (the files the
    kubelet and kubeadm packages ship) under /etc/systemd/system where the node has none, then run
    'systemctl daemon-reload' when systemd drives the node. Files a package installed are left as
    they are; 'kubeadm-py reset' leaves these files too."""
    import tempfile

    from kubeadm_py.effectors.bundle import build
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kubelet import unit

    sandbox = tempfile.mkdtemp(prefix="kubeadm-py-dryrun-") if dry_run else None
    fs = HostFS(rootfs=rootfs, sandbox=sandbox, owns_sandbox=dry_run)
    fx = build(fs, dry_run=dry_run, log=typer.echo, kubeconfig=lambda: "", node_name=lambda: "")
    try:
        changes = unit.install(fx.fs, fx.commands, fx.services.manager(), typer.echo, kubelet=kubelet_path)
        for c in changes:
            if c.kind != "file":
                if not dry_run and c.detail == "reloaded":
                    typer.echo(f"[kubelet] Ran {c.target}")
            elif not c.changed:
                typer.echo(f"[kubelet] {c.target}: {c.detail}")
            elif not dry_run:
                typer.echo(f"[kubelet] Wrote {c.target}")
            else:
                typer.echo(f"[dryrun] Would write file {c.target!r} with content:")
                typer.echo("".join(f"\t{line}\n" for line in (c.content or "").splitlines()), nl=False)
    finally:
        fs.close()
