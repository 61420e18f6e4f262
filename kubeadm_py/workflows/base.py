"""A workflow: an ordered phase list plus how to build its context from options."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kubeadm_py.phases.context import RunContext
from kubeadm_py.workflow.phase import Phase
from kubeadm_py.workflow.report import RunReport


@dataclass(frozen=True)
class Workflow:
    name: str
    help: str
    config_kind: str  # which config documents it reads: init, join, reset, upgrade
    phases: Callable[[], tuple[Phase, ...]]  # built on demand: phase modules import their libraries
    flags: tuple[str, ...] = ()  # flags of the workflow command itself
    # Positional arguments of the workflow command (e.g. join's api-server-endpoint), as
    # inspect.Parameter objects with typer.Argument defaults.
    arguments: tuple[inspect.Parameter, ...] = ()
    # Adjust config overrides from options that need more than a config path (e.g. --token).
    extra_overrides: Callable[[dict[str, Any]], dict[str, Any]] | None = None
    # Adjust the context after it is built (e.g. defaults derived from options).
    prepare: Callable[[RunContext], None] | None = None
    # Called after a successful full run: final messages, outputs.
    finish: Callable[[RunContext, RunReport], None] | None = None
    skip_phases_from: Callable[[RunContext], list[str]] = field(default=lambda ctx: [])
