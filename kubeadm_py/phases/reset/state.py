"""What reset's phases hand to later phases of the same run."""

from __future__ import annotations

from dataclasses import dataclass, field

from kubeadm_py.phases.context import RunContext, RunState


@dataclass
class ResetState(RunState):
    # Directories cleanup-node empties besides its own list (the etcd data directory).
    dirs_to_clean: list[str] = field(default_factory=list)


ResetContext = RunContext[ResetState]
