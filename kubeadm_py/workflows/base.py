"""A workflow: an ordered phase list, its state type, and how to build its context from options."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from kubeadm_py.phases.context import RunContext, RunState

if TYPE_CHECKING:  # building the phase tree (any --help) must not load the API client
    import inspect
    from collections.abc import Callable

    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.run_options import RunOptions
    from kubeadm_py.workflow.phase import Phase
    from kubeadm_py.workflow.report import RunReport

S = TypeVar("S", bound=RunState)


def _no_skips(ctx: Any) -> list[str]:
    return []


@dataclass(frozen=True)
class Workflow(Generic[S]):
    name: str
    help: str
    config_kind: str  # which config documents it reads: init, join, reset, upgrade
    new_state: Callable[[], S]
    phases: Callable[[], tuple[Phase[RunContext[S]], ...]]  # built on demand: phases import their libraries
    flags: tuple[str, ...] = ()  # flags of the workflow command itself
    # Positional arguments of the workflow command (e.g. join's api-server-endpoint), as
    # inspect.Parameter objects with typer.Argument defaults.
    arguments: tuple[inspect.Parameter, ...] = ()
    # Config overrides from options that need more than a config path (e.g. --token).
    extra_overrides: Callable[[RunOptions], dict[str, Any]] | None = None
    # Adjust the context after it is built (e.g. defaults derived from options).
    prepare: Callable[[RunContext[S]], None] | None = None
    # Checks of the run's inputs (flags, config fields, patch files, validity periods, token TTLs)
    # that would otherwise fail a phase after earlier phases wrote: run when the context is built,
    # after prepare, before any phase (kubeadm_py/phases/shared/validate.py).
    validate: tuple[Callable[[RunContext[S]], object], ...] = ()
    # Called after a successful full run (not a dry run, which ends with api.DRY_RUN_FINISHED):
    # final messages, outputs.
    finish: Callable[[RunContext[S], RunReport], None] | None = None
    skip_phases_from: Callable[[RunContext[S]], list[str]] = _no_skips
    # Called with the run's API client before its first use.
    on_connect: Callable[[RunContext[S], KubeClient], None] | None = None
