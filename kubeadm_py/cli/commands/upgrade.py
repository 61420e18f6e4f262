"""``kubeadm-py upgrade plan|diff|apply|node``: a thin layer over :mod:`kubeadm_py.upgrade`.

``apply`` and ``node`` are workflows bound with the generic binder (``upgrade apply phase ...``);
``plan`` and ``diff`` are plain commands. Heavy libraries are imported inside the functions."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import typer

from kubeadm_py.cli.jsonpath import OUTPUT_HELP

if TYPE_CHECKING:
    from kubeadm_py.config.types import KubeadmConfig
    from kubeadm_py.effectors.bundle import Hooks
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.run_options import RunOptions

app = typer.Typer(
    help="Upgrade your cluster smoothly to a newer version with this command",
    no_args_is_help=True,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

WORKFLOWS = (("apply", "upgrade-apply"), ("node", "upgrade-node"))


def _to_stderr(msg: str) -> None:
    print(msg, file=sys.stderr)


def open_cluster(
    values: Mapping[str, object], log: Callable[[str], None], hooks: Hooks | None = None
) -> tuple[KubeClient, HostFS, KubeadmConfig, RunOptions]:
    """What ``plan`` and ``diff`` read, as explicit values: the API server of ``--kubeconfig``
    (through the effectors, so ``hooks`` apply), this node's files under ``--rootfs``, the
    configuration of ``--config`` and the typed options."""
    from kubeadm_py import api
    from kubeadm_py.constants import ADMIN_KUBECONFIG, KUBERNETES_DIR
    from kubeadm_py.effectors.bundle import build
    from kubeadm_py.hostfs import HostFS
    from kubeadm_py.options import config_overrides, run_options

    options = run_options(values)
    cfg = api.load_config(options.config, kind="upgrade", overrides=config_overrides(options))
    fs = HostFS(rootfs=options.rootfs)
    kubeconfig = options.kubeconfig or f"{KUBERNETES_DIR}/{ADMIN_KUBECONFIG}"
    fx = build(
        fs,
        dry_run=False,
        log=log,
        kubeconfig=lambda: kubeconfig,
        node_name=lambda: cfg.node_name,
        hooks=hooks,
    )
    return fx.api.client(), fs, cfg, options


@app.command("plan")
def plan(
    version: str | None = typer.Argument(
        None, help="The version to plan for (default: what the version table offers)."
    ),
    config: str | None = typer.Option(None, "--config", help="Path to a kubeadm configuration file."),
    kubeconfig: str | None = typer.Option(
        None, "--kubeconfig", help="The admin kubeconfig [default: /etc/kubernetes/admin.conf]."
    ),
    rootfs: str | None = typer.Option(None, "--rootfs", help="Host paths live under this directory."),
    kubernetes_version: str | None = typer.Option(None, "--kubernetes-version", help="Same as VERSION."),
    etcd_upgrade: bool | None = typer.Option(
        None, "--etcd-upgrade", help="Plan the etcd upgrade (--etcd-upgrade=false: don't). [default: true]"
    ),
    force: bool = typer.Option(False, "--force", "-f", help="Accept skippable version skew policy issues."),
    allow_experimental: bool = typer.Option(
        False, "--allow-experimental-upgrades", help="Allow pre-release versions."
    ),
    allow_rc: bool = typer.Option(
        False, "--allow-release-candidate-upgrades", help="Allow release candidates."
    ),
    output: str = typer.Option("text", "--output", "-o", help=OUTPUT_HELP),
) -> None:
    """Check which versions are available to upgrade to and validate whether your current cluster is
    upgradeable."""
    from kubeadm_py.cli.render import check_output_format, dump
    from kubeadm_py.upgrade import plan as planlib

    fmt = check_output_format(output)
    values = {
        "version": version or kubernetes_version,
        "config": config,
        "kubeconfig": kubeconfig,
        "rootfs": rootfs,
        "etcd_upgrade": etcd_upgrade,
        "force": force,
        "allow_experimental_upgrades": allow_experimental,
        "allow_release_candidate_upgrades": allow_rc,
    }
    log: Callable[[str], None] = _to_stderr if fmt != "text" else print
    result = planlib.plan(*open_cluster(values, log), log=log)
    if fmt == "text":
        sys.stdout.write(planlib.render_text(result))
    else:
        dump(result, fmt)


@app.command("diff")
def diff(
    version: str | None = typer.Argument(None, help="The version to diff against (default: the cluster's)."),
    config: str | None = typer.Option(None, "--config", help="Path to a kubeadm configuration file."),
    kubeconfig: str | None = typer.Option(
        None, "--kubeconfig", help="The admin kubeconfig [default: /etc/kubernetes/admin.conf]."
    ),
    rootfs: str | None = typer.Option(None, "--rootfs", help="Host paths live under this directory."),
    context_lines: int = typer.Option(
        3, "--context-lines", "-c", help="How many lines of context in the diff."
    ),
    api_server_manifest: str | None = typer.Option(
        None, "--api-server-manifest", help="Current kube-apiserver manifest."
    ),
    controller_manager_manifest: str | None = typer.Option(
        None, "--controller-manager-manifest", help="Current kube-controller-manager manifest."
    ),
    scheduler_manifest: str | None = typer.Option(
        None, "--scheduler-manifest", help="Current kube-scheduler manifest."
    ),
) -> None:
    """Show what differences would be applied to existing static pod manifests.

    See also: kubeadm-py upgrade apply --dry-run"""
    from kubeadm_py.upgrade import plan as planlib

    opened = open_cluster(
        {
            "version": version,
            "config": config,
            "kubeconfig": kubeconfig,
            "rootfs": rootfs,
            "context_lines": context_lines,
            "api_server_manifest": api_server_manifest,
            "controller_manager_manifest": controller_manager_manifest,
            "scheduler_manifest": scheduler_manifest,
        },
        _to_stderr,
    )
    sys.stdout.write(planlib.diff(*opened, log=_to_stderr))


def _phases_requested(argv: Sequence[str], sub: str) -> bool:
    args = list(argv)
    for i, a in enumerate(args[:-1]):
        if a == sub and i > 0 and args[i - 1] == "upgrade":
            return args[i + 1] == "phase"
    return False


def bind_workflows(target: typer.Typer, argv: Sequence[str]) -> None:
    """Register ``apply`` and ``node``; ``apply VERSION`` binds as a plain command unless the command
    line asks for ``apply phase ...`` (click cannot mix a positional argument and subcommands)."""
    from kubeadm_py.cli.bind import bind_named_workflow

    for sub, name in WORKFLOWS:
        bind_named_workflow(target, sub, name, phase_asked=_phases_requested(argv, sub))


def build_app(argv: Sequence[str]) -> typer.Typer:
    """A fresh ``upgrade`` app for ``argv`` (tests; the module-level ``app`` uses ``sys.argv``)."""
    fresh = typer.Typer(help=app.info.help, no_args_is_help=True, rich_markup_mode=None)
    fresh.command("plan")(plan)
    fresh.command("diff")(diff)
    bind_workflows(fresh, argv)
    return fresh


bind_workflows(app, sys.argv)
