"""What init's phases hand to later phases of the same run."""

from __future__ import annotations

from dataclasses import dataclass

from kubeadm_py.phases.context import RunContext, RunState


@dataclass
class InitState(RunState):
    token: str | None = None  # the first bootstrap token (bootstrap-token -> show-join-command)
    certificate_key: str | None = None  # the key upload-certs encrypted with


InitContext = RunContext[InitState]
