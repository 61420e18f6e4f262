"""``mark-control-plane`` (upstream ``phases/markcontrolplane``): control-plane labels and taints."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kubeadm_py.versioned import profile_for

Obj = dict[str, Any]


def desired_taints(node_registration: Obj, version: str) -> list[Obj]:
    """``nodeRegistration.taints``: nil means the version's default control-plane taint(s), [] none."""
    taints = node_registration.get("taints")
    if taints is None:
        return [dict(t) for t in profile_for(version).default_taints]
    return [dict(t) for t in taints]


def taint_string(t: Obj) -> str:
    """v1.Taint.ToString: ``key=value:Effect`` or ``key:Effect``."""
    kv = f"{t['key']}={t['value']}" if t.get("value") else str(t["key"])
    return f"{kv}:{t['effect']}" if t.get("effect") else kv


def _same(a: Obj, b: Obj) -> bool:
    keys = ("key", "value", "effect", "timeAdded")
    return all((a.get(k) or None) == (b.get(k) or None) for k in keys)


def mutator(labels: tuple[str, ...], taints: list[Obj]) -> Callable[[Obj], None]:
    """markControlPlaneNode: add the labels with empty values; taints = wanted + existing others."""

    def mutate(node: Obj) -> None:
        node_labels = node.setdefault("metadata", {}).setdefault("labels", {})
        for label in labels:
            node_labels[label] = ""
        merged = [dict(t) for t in taints]
        for existing in node.setdefault("spec", {}).get("taints") or []:
            if not any(_same(existing, t) for t in merged):
                merged.append(existing)
        if merged:
            node["spec"]["taints"] = merged
        else:
            node["spec"].pop("taints", None)

    return mutate
