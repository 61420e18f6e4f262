"""Deciding whether an object in the cluster already matches what kubeadm-py wants.

The API server fills defaults (a Deployment's ``revisionHistoryLimit``, a Service's
``sessionAffinity``...) and adds bookkeeping metadata, so "matches" means: every field the desired
object sets has the same value in the live object (a recursive subset test; lists must have the
same length and match element by element). Fields that never matter are ignored."""

from __future__ import annotations

import copy
from typing import Any

import yaml

# metadata fields the server owns; never compared, never sent back from a desired object.
_SERVER_META = ("resourceVersion", "uid", "creationTimestamp", "generation", "managedFields", "selfLink")


def _zero(v: Any) -> bool:
    """Go's zero values: the API server drops ``omitempty`` fields holding them (``readOnly: false``)."""
    return v is False or v == 0 or v == "" or v == [] or v == {}


def is_subset(desired: Any, live: Any) -> bool:
    if isinstance(desired, dict):
        if not isinstance(live, dict):
            return False
        return all(
            is_subset(v, live[k]) if k in live else _zero(v) for k, v in desired.items() if v is not None
        )
    if isinstance(desired, list):
        if not isinstance(live, list) or len(desired) != len(live):
            return False
        return all(is_subset(d, lv) for d, lv in zip(desired, live, strict=True))
    if isinstance(desired, bool) or isinstance(live, bool):
        return desired is live
    if isinstance(desired, int | float) and isinstance(live, int | float):
        return desired == live
    return bool(desired == live)


def comparable(obj: dict[str, Any]) -> dict[str, Any]:
    """The parts of a desired object that decide equality: no server-owned metadata, no status."""
    out = copy.deepcopy(obj)
    out.pop("status", None)
    meta = out.get("metadata") or {}
    for k in _SERVER_META:
        meta.pop(k, None)
    # ownerReferences carry the owner's uid, which a dry run cannot know.
    for ref in meta.get("ownerReferences") or []:
        if isinstance(ref, dict) and ref.get("uid") in ("", None):
            ref.pop("uid", None)
    return out


def matches(desired: dict[str, Any], live: dict[str, Any]) -> bool:
    return is_subset(comparable(desired), live)


def changed_paths(desired: Any, live: Any, prefix: str = "") -> list[str]:
    """Dotted paths where ``desired`` is not a subset of ``live`` (for change details)."""
    if isinstance(desired, dict) and isinstance(live, dict):
        out: list[str] = []
        for k, v in desired.items():
            if v is None:
                continue
            p = f"{prefix}.{k}" if prefix else str(k)
            if k not in live:
                if not _zero(v):
                    out.append(p)
            else:
                out.extend(changed_paths(v, live[k], p))
        return out
    return [] if is_subset(desired, live) else [prefix or "."]


# Secret data keys that are not secret themselves (bootstrap token Secrets): shown in dry-run output.
_PUBLIC_TOKEN_KEYS = ("token-id", "description", "expiration", "auth-extra-groups")


def redacted(obj: dict[str, Any]) -> dict[str, Any]:
    """A copy safe to print: Secret ``data``/``stringData`` values replaced by a marker (a bootstrap
    token Secret keeps its public fields: id, description, expiration, usages, groups)."""
    out = copy.deepcopy(obj)
    if out.get("kind") == "Secret":
        token = out.get("type") == "bootstrap.kubernetes.io/token"
        for key in ("data", "stringData"):
            if isinstance(out.get(key), dict):
                out[key] = {
                    k: v
                    if token and (k in _PUBLIC_TOKEN_KEYS or k.startswith("usage-bootstrap-"))
                    else "<redacted>"
                    for k, v in out[key].items()
                }
    return out


class _Dumper(yaml.SafeDumper):
    pass


def _str(dumper: yaml.SafeDumper, data: str) -> yaml.ScalarNode:
    style = "|" if "\n" in data and not any(line != line.rstrip() for line in data.splitlines()) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", data, style=style)


_Dumper.add_representer(str, _str)


def to_yaml(obj: dict[str, Any]) -> str:
    """Printable YAML of an object (multi-line strings as literal blocks), Secrets redacted."""
    return yaml.dump(redacted(obj), Dumper=_Dumper, sort_keys=False, default_flow_style=False)
