"""``certs rotate-ca begin|sync|switch|finish|status``: rotate the cluster CA in stages across
nodes, the API served throughout (kubeadm_py/certs/rotateca.py, docs/pki.md)."""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING

import typer

from kubeadm_py.phases.rotateca.state import RotateCAContext, RotateCAState
from kubeadm_py.workflows.base import Workflow

if TYPE_CHECKING:
    from kubeadm_py.workflow.phase import Phase

FLAGS = (
    "config",
    "kubeconfig",
    "cert-dir",
    "dry-run",
    "certificate-key",
    "front-proxy",
    "etcd",
    "skip-phases",
)
COMMANDS = ("begin", "sync", "switch", "finish", "status")

STAGE_ARGUMENT = inspect.Parameter(
    "stage",
    inspect.Parameter.POSITIONAL_OR_KEYWORD,
    default=typer.Argument(None, help=f"One of: {', '.join(COMMANDS)}."),
    annotation=str | None,
)


def phases() -> tuple[Phase[RotateCAContext], ...]:
    from kubeadm_py.phases.rotateca.phases import phases as rotate_phases

    return rotate_phases()


def _prepare(ctx: RotateCAContext) -> None:
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.phases.upgrade.control_plane import timestamp
    from kubeadm_py.upgrade.config import node_local

    command = ctx.options.stage
    if command not in COMMANDS:
        raise KubeadmError(
            f"certs rotate-ca needs one of {', '.join(COMMANDS)}" + (f", not {command!r}" if command else "")
        )
    from kubeadm_py.certs.rotateca import OPTIONAL

    for option in OPTIONAL:
        if getattr(ctx.options, option.replace("-", "_"), None) and command != "begin":
            raise KubeadmError(
                f"--{option} is an option of 'certs rotate-ca begin', not of {command}",
                hint="sync, switch and finish follow the CAs the rotation recorded at begin",
            )
    ctx.state.command = command
    ctx.state.node_name = node_local(ctx.fs, ctx.manifests_dir).node_name or ctx.cfg.node_name
    ctx.state.timestamp = timestamp()
    ctx.state.control_plane = ctx.fs.exists(f"{ctx.manifests_dir}/kube-apiserver.yaml")


WORKFLOW = Workflow(
    name="certs-rotate-ca",
    help=(
        "Rotate the cluster CA (and with --front-proxy, --etcd the front-proxy and etcd CAs) in stages: "
        "begin, sync (every node), switch, sync, finish, sync; status"
    ),
    config_kind="init",
    new_state=RotateCAState,
    phases=phases,
    flags=FLAGS,
    arguments=(STAGE_ARGUMENT,),
    prepare=_prepare,
)
