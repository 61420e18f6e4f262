"""``kubeadm-py selfhosting pivot|status``: the control plane as DaemonSets (docs/selfhosting.md).
``pivot`` is a workflow (phases, --dry-run, -o json, the run journal); ``status`` only reads."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Self-hosted control plane: pivot from static Pods, status",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """Self-hosted control plane: pivot from static Pods, status."""


@app.command("status")
def status(
    output: str = typer.Option("text", "--output", "-o", help="Output format: text, json or yaml."),
    kubeconfig: str = typer.Option(
        "/etc/kubernetes/admin.conf",
        "--kubeconfig",
        help="The kubeconfig file to use when talking to the cluster.",
    ),
    rootfs: str | None = typer.Option(None, "--rootfs", help="Host paths resolve inside this directory."),
) -> None:
    """Per component and control-plane node: static or self-hosted, the Pod, the checkpoint state."""
    from kubeadm_py.cli.render import check_output_format, dump
    from kubeadm_py.constants import MANIFESTS_DIR
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import RetryPolicy
    from kubeadm_py.selfhosting.status import render, rows
    from kubeadm_py.upgrade.config import node_local

    fmt = check_output_format(output)
    fs = HostFS(rootfs=rootfs)
    node = node_local(fs, MANIFESTS_DIR).node_name
    if not node:
        raise KubeadmError(
            "this node's name is unknown (no kubelet.conf)", hint="run status on a control-plane node"
        )
    client = None
    if fs.exists(kubeconfig):
        from kubeadm_py.effectors.api import RealApi

        try:
            client = RealApi(fs, lambda: kubeconfig).from_kubeconfig(
                kubeconfig, retry=RetryPolicy(attempts=1)
            )
        except KubeadmError:
            client = None
    table, note = rows(fs, MANIFESTS_DIR, node, client)
    if fmt == "text":
        typer.echo(render(table), nl=False)
        if note:
            typer.echo(f"note: {note}")
    else:
        dump({"node": node, "components": [r.to_dict() for r in table], "note": note}, fmt)


def _bind_workflows(target: typer.Typer) -> None:
    from kubeadm_py.cli.bind import bind_named_workflow

    bind_named_workflow(target, "pivot", "selfhosting-pivot", phase_asked=False)


_bind_workflows(app)
