"""What a phase did or would do: a list of :class:`Change` records.

A phase never asks whether it runs in dry-run; it writes through the effectors of its
context (:mod:`kubeadm_py.hostfs`, :mod:`kubeadm_py.kube.client`) and those return changes."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Action = Literal["create", "update", "unchanged", "delete", "run"]
Kind = Literal["file", "dir", "object", "process", "note"]


@dataclass(frozen=True)
class Change:
    kind: Kind
    action: Action
    target: str
    detail: str = ""
    # Printable content for dry-run output; None for secrets (keys, tokens) and binary data.
    content: str | None = field(default=None, compare=False, repr=False)

    @property
    def changed(self) -> bool:
        return self.action != "unchanged"

    def to_dict(self, with_content: bool = False) -> dict[str, Any]:
        d = asdict(self)
        if not with_content:
            d.pop("content")
        return d
