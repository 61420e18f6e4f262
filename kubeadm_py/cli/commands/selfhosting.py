"""``kubeadm-py selfhosting pivot|status|checkpointer|recover``: the control plane as DaemonSets
(docs/selfhosting.md) and its restart recovery (docs/selfhosting-recovery.md). ``pivot`` is a
workflow (phases, --dry-run, -o json, the run journal); ``status`` only reads."""

from __future__ import annotations

import socket
import time

import typer

app = typer.Typer(
    help="Self-hosted control plane: pivot from static Pods, status, checkpoints and recovery",
    no_args_is_help=True,
    rich_markup_mode=None,
    add_completion=False,
)


@app.callback()
def _group() -> None:
    """Self-hosted control plane: pivot from static Pods, status, checkpoints and recovery."""


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


checkpointer_app = typer.Typer(
    help="The checkpointer: keeps the self-hosted Pods of this node as static Pods for restarts",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(checkpointer_app, name="checkpointer")

ManifestsOpt = typer.Option(
    "/etc/kubernetes/manifests", "--manifests-dir", help="Where the node's static Pod manifests are."
)
KubeconfigOpt = typer.Option(
    "/etc/kubernetes/kubelet.conf", "--kubeconfig", help="The node's kubeconfig (reads its own Pods)."
)
NodeOpt = typer.Option(None, "--node-name", help="This node's name [default: the host name, lower case].")
CriOpt = typer.Option(
    "unix:///var/run/containerd/containerd.sock", "--cri-socket", help="The container runtime's CRI endpoint."
)


def _loop(manifests_dir: str, kubeconfig: str, node_name: str | None, cri_socket: str, grace: float):  # type: ignore[no-untyped-def]
    from kubeadm_py.effectors.bundle import build
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import RetryPolicy
    from kubeadm_py.selfhosting.checkpoint import Timing
    from kubeadm_py.selfhosting.checkpointer import Checkpointer, ClientCache

    node = node_name or socket.gethostname().lower()
    fs = HostFS()
    fx = build(fs, dry_run=False, log=typer.echo, kubeconfig=lambda: kubeconfig, node_name=lambda: node)

    def log(line: str) -> None:
        typer.echo(f"{time.strftime('%H:%M:%S')} {line}")

    client = ClientCache(lambda: fx.api.from_kubeconfig(kubeconfig, retry=RetryPolicy(attempts=1)))
    return Checkpointer(
        fs, fx.cri(cri_socket), client, node, log, manifests_dir=manifests_dir, timing=Timing(grace=grace)
    )


@checkpointer_app.command("run")
def run(
    interval: float = typer.Option(2.0, "--interval", help="Seconds between two looks."),
    grace: float = typer.Option(
        10.0, "--grace", help="Seconds without an API server and the DaemonSet Pod before a checkpoint runs."
    ),
    manifests_dir: str = ManifestsOpt,
    kubeconfig: str = KubeconfigOpt,
    node_name: str | None = NodeOpt,
    cri_socket: str = CriOpt,
) -> None:
    """Run the checkpointer in the foreground (the systemd unit runs this)."""
    cp = _loop(manifests_dir, kubeconfig, node_name, cri_socket, grace)
    cp.run(interval, stop=lambda: False, sleep=time.sleep)


@checkpointer_app.command("install")
def install(
    rootfs: str | None = typer.Option(None, "--rootfs", help="Host paths resolve inside this directory."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Do not change any state, just show it."),
) -> None:
    """Write the checkpointer's systemd unit (kubeadm-py-checkpointer.service); enable and start it
    when systemd drives the node."""
    from kubeadm_py.effectors.bundle import build
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.selfhosting.checkpoint_unit import install as install_unit

    fs = HostFS(rootfs=rootfs, dry_run=dry_run)
    fx = build(fs, dry_run=dry_run, log=typer.echo, kubeconfig=lambda: "", node_name=lambda: "")
    try:
        for c in install_unit(fx.fs, fx.services, typer.echo):
            if c.changed:  # a note was logged already
                verb = "Would" if dry_run else "Did"
                typer.echo(f"[selfhosting] {verb} {c.action} {c.target}: {c.detail}")
                if dry_run and c.content:
                    typer.echo("".join(f"\t{line}\n" for line in c.content.splitlines()), nl=False)
    finally:
        fs.close()


@app.command("recover")
def recover(
    config: str | None = typer.Option(
        None,
        "--config",
        help="The cluster's kubeadm configuration, for components without a stored checkpoint.",
    ),
    wait: str = typer.Option(
        "10m",
        "--wait",
        help="How long to run the hand-off here when the checkpointer service is not running "
        "(0s: only write the static Pods).",
    ),
    manifests_dir: str = ManifestsOpt,
    kubeconfig: str = KubeconfigOpt,
    node_name: str | None = NodeOpt,
    cri_socket: str = CriOpt,
) -> None:
    """Start this node's control plane from its checkpoints (or from --config) as static Pods, then
    hand over to the DaemonSet Pods once the kubelet has them again."""
    from kubeadm_py import api
    from kubeadm_py.durations import duration_seconds
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.selfhosting import recover as rec
    from kubeadm_py.selfhosting.checkpointer import states

    seconds = duration_seconds(wait, "--wait")
    fs = HostFS()

    def render():  # type: ignore[no-untyped-def]
        from kubeadm_py.manifests.controlplane import build_control_plane

        return build_control_plane(api.load_config(config), fs).pods

    for r in rec.recover(fs, render if config else None, manifests_dir=manifests_dir):
        what = {
            "static": "a static Pod manifest is there: left as it is",
            "active": "checkpoint already active",
            "stored": "started from its stored checkpoint",
            "config": "started from the kubeadm configuration",
        }
        typer.echo(f"[selfhosting] {r.component}: {what[r.source]}")
    fs.sync()
    if seconds <= 0:
        return
    cp = _loop(manifests_dir, kubeconfig, node_name, cri_socket, grace=10.0)
    deadline = time.monotonic() + seconds
    typer.echo("[selfhosting] handing over to the DaemonSet Pods (the kubelet needs the API server first)")
    cp.run(
        2.0,
        stop=lambda: "active" not in states(fs, manifests_dir).values() or time.monotonic() > deadline,
        sleep=time.sleep,
    )
    left = [c for c, s in states(fs, manifests_dir).items() if s == "active"]
    if left:
        raise KubeadmError(
            f"still running from checkpoints after {wait}: {', '.join(left)}",
            hint="see 'kubectl -n kube-system get ds,pods'; the checkpointer service hands over later",
        )
    typer.echo("[selfhosting] the DaemonSet Pods run the control plane again")


def _bind_workflows(target: typer.Typer) -> None:
    from kubeadm_py.cli.bind import bind_named_workflow

    bind_named_workflow(target, "pivot", "selfhosting-pivot", phase_asked=False)


_bind_workflows(app)
