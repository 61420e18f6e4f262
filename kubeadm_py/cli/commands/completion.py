"""``kubeadm-py completion SHELL`` for typer's help and error messages; a plain ``completion SHELL``
is answered earlier by the fast path (:mod:`kubeadm_py.cli.complete`)."""

from __future__ import annotations

import typer


def completion(
    shell: str = typer.Argument(..., help="bash, zsh or fish."),
) -> None:
    """Output shell completion code for bash, zsh or fish.

    \b
    bash:  source <(kubeadm-py completion bash)
    zsh:   source <(kubeadm-py completion zsh)      (after compinit)
    fish:  kubeadm-py completion fish | source

    Completes commands, phase paths (init phase certs apiserver), options, and the values of -o,
    --ignore-preflight-errors and --kubernetes-version."""
    import sys

    from kubeadm_py.cli.complete import script

    sys.stdout.write(script(shell))
