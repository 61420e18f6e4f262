"""The ``kubeadm-py`` typer app: a thin layer over the library.

Sub-commands are registered on demand: only the command being invoked imports its module (and
its libraries), so ``--help`` stays fast. The entry point and error boundary are in
:mod:`kubeadm_py.cli.main`."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import typer

if TYPE_CHECKING:
    from typer._click import Command

# name -> (help, module, attribute): typer sub-apps owned by each area.
SUBAPPS: dict[str, tuple[str, str, str]] = {
    "certs": ("Commands related to handling Kubernetes certificates", "kubeadm_py.cli.commands.certs", "app"),
    "kubeconfig": ("Kubeconfig file utilities", "kubeadm_py.cli.commands.kubeconfig", "app"),
    "token": ("Manage bootstrap tokens", "kubeadm_py.cli.commands.token", "app"),
    "kubelet": ("Manage the kubelet's systemd unit on this node", "kubeadm_py.cli.commands.kubelet", "app"),
    "config": ("Manage configuration for a kubeadm cluster", "kubeadm_py.cli.commands.config", "app"),
    "etcd": ("etcd utilities: snapshots", "kubeadm_py.cli.commands.etcd", "app"),
    "selfhosting": (
        "Self-hosted control plane: pivot from static Pods, status, checkpoints and recovery",
        "kubeadm_py.cli.commands.selfhosting",
        "app",
    ),
    "upgrade": (
        "Upgrade your cluster smoothly to a newer version with this command",
        "kubeadm_py.cli.commands.upgrade",
        "app",
    ),
}
# name -> (help, module, function): single commands.
COMMANDS: dict[str, tuple[str, str, str]] = {
    "preflight": (
        "Check that this node is ready to become a control plane or a worker",
        "kubeadm_py.cli.commands.preflight",
        "preflight",
    ),
    "verify": (
        "Check that this node and the cluster are healthy (a gate a provisioner can wait on)",
        "kubeadm_py.cli.commands.verify",
        "verify",
    ),
    "completion": (
        "Output shell completion code for bash, zsh or fish",
        "kubeadm_py.cli.commands.completion",
        "completion",
    ),
}
WORKFLOW_HELP: dict[str, str] = {
    "init": "Run this command in order to set up the Kubernetes control plane",
    "reset": "Performs a best effort revert of changes made to this host by 'kubeadm init' or 'kubeadm join'",
    "join": "Run this on any machine you wish to join an existing cluster",
}


def _register_workflow(app: typer.Typer, name: str, argv: Sequence[str]) -> None:
    from kubeadm_py.cli.bind import bind_named_workflow

    idx = list(argv).index(name)
    bind_named_workflow(app, name, name, phase_asked=len(argv) > idx + 1 and argv[idx + 1] == "phase")


def _placeholder(app: typer.Typer, name: str, help_text: str) -> None:
    def placeholder() -> None:  # never runs: the real command is registered when invoked
        raise typer.Exit(2)

    app.command(name=name, help=help_text, context_settings={"ignore_unknown_options": True})(placeholder)


def _version(
    output: str = typer.Option("", "--output", "-o", help="Output format: short, json or yaml."),
) -> None:
    """Print the version of kubeadm-py."""
    from kubeadm_py.cli.version import print_version

    print_version(output)


def run_typer(argv: Sequence[str]) -> int:
    """Run the typer app on ``argv`` with kubeadm's flag rules (:mod:`kubeadm_py.cli.argv`); a usage
    error is one line, ``error: ...`` on stderr, and exit code 1 (click's are several, with 2)."""
    import sys

    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError

    try:
        code = command(argv).main(args=list(argv), prog_name="kubeadm-py", standalone_mode=False)
    except NoArgsIsHelpError as e:  # "kubeadm-py token": the help, and 1 as kubeadm's subCmdRun
        print(e.ctx.get_help())
        return 0 if e.ctx.parent is None else 1
    except ClickException as e:
        where = e.ctx.command_path if isinstance(e, UsageError) and e.ctx else "kubeadm-py"
        from kubeadm_py.errors import one_line

        text = one_line(" ".join(e.format_message().split()))
        print(f"error: {text} (see '{where} --help')", file=sys.stderr)
        return 1
    except typer.Abort:
        print("error: aborted", file=sys.stderr)
        return 1
    return code if isinstance(code, int) else 0


def command(argv: Sequence[str]) -> Command:
    """The click command of :func:`build_app` for ``argv``, parsing booleans and values as kubeadm."""
    from typer.main import get_command

    from kubeadm_py.cli.argv import install

    return install(get_command(build_app(argv)))


def build_app(argv: Sequence[str]) -> typer.Typer:
    """The root app for this invocation: the invoked command is registered for real, the others
    as listings only."""
    app = typer.Typer(
        name="kubeadm-py",
        help="kubeadm-py: easily bootstrap a secure Kubernetes cluster (a kubeadm-style toolbox).",
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    target = next((a for a in argv if not a.startswith("-")), None)
    app.command(name="version")(_version)
    for name, (help_text, module, attr) in SUBAPPS.items():
        if name == target:
            sub: typer.Typer = getattr(importlib.import_module(module), attr)
            app.add_typer(sub, name=name, help=help_text)
        else:
            _placeholder(app, name, help_text)
    for name, (help_text, module, attr) in COMMANDS.items():
        if name == target:
            fn: Callable[..., Any] = getattr(importlib.import_module(module), attr)
            app.command(name=name, help=help_text)(fn)
        else:
            _placeholder(app, name, help_text)
    for name, help_text in WORKFLOW_HELP.items():
        if name == target:
            _register_workflow(app, name, argv)
        else:
            _placeholder(app, name, help_text)
    return app
