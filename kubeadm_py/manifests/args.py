"""Command-line arguments as kubeadm builds them (``cmd/kubeadm/app/util/arguments.go``).

Arguments are ``(name, value)`` pairs. ``extraArgs`` in v1beta4 form is a list of ``{name, value}``
where a name may repeat; an extra argument replaces *every* default argument of the same name, and
the result is sorted by name, then value (``ArgumentsToCommand``). For the unique-name maps of
v1beta2 (Kubernetes 1.20) this gives exactly the output of the older ``BuildArgumentListFromMap``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from kubeadm_py.errors import ConfigError

Arg = tuple[str, str]


def args_from_config(items: Any, field: str) -> list[Arg]:
    """``[{name, value}, ...]`` (v1beta4) → list of pairs. A mapping (v1beta2/v1beta3 style) is accepted
    too. Anything else is a configuration error naming ``field``."""
    if not items:
        return []
    if isinstance(items, dict):
        return [(str(k), "" if v is None else str(v)) for k, v in items.items()]
    if not isinstance(items, list):
        raise ConfigError("must be a list of {name, value}", field=field)
    out: list[Arg] = []
    for i, it in enumerate(items):
        if not isinstance(it, dict) or not it.get("name"):
            raise ConfigError("each entry needs a non-empty 'name'", field=f"{field}[{i}]")
        name = str(it["name"])
        if name.startswith("-"):
            raise ConfigError(
                f"argument name {name!r} must not start with '-'",
                field=f"{field}[{i}].name",
                hint=f"use name: {name.lstrip('-')}",
            )
        value = it.get("value", "")
        out.append((name, "" if value is None else _go_str(value)))
    return out


def _go_str(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def get_arg(args: Sequence[Arg], name: str) -> str | None:
    """The value of the last ``name`` argument (kubeadmapi.GetArgValue with idx -1), None if absent."""
    val = None
    for n, v in args:
        if n == name:
            val = v
    return val


def set_arg(args: list[Arg], name: str, value: str) -> list[Arg]:
    """Replace the first ``name`` argument or append it (kubeadmapi.SetArgValues with nArgs 1)."""
    for i, (n, _) in enumerate(args):
        if n == name:
            args[i] = (name, value)
            return args
    args.append((name, value))
    return args


def arguments_to_command(base: Iterable[Arg], overrides: Iterable[Arg]) -> list[str]:
    overrides = list(overrides)
    names = {n for n, _ in overrides}
    merged = overrides + [a for a in base if a[0] not in names]
    merged.sort(key=lambda a: (a[0], a[1]))
    return [f"--{n}={v}" for n, v in merged]


def parse_command(command: Sequence[str]) -> list[Arg]:
    """``["kube-apiserver", "--a=b", ...]`` → pairs (the binary and non-flag words are skipped)."""
    out: list[Arg] = []
    for word in command:
        if not word.startswith("--"):
            continue
        name, _, value = word[2:].partition("=")
        out.append((name, value))
    return out
