"""Running a workflow command without building the typer app, when its command line is plainly valid.

typer coerces every non-boolean option through a pydantic ``TypeAdapter``, so any command with a
string option imports pydantic (~0.1 s) before doing anything, and building the command tree costs
more. For ``init``/``join``/``reset`` and their ``phase`` subcommands this module parses the command
line itself, with the same flag lists the typer binder uses (:mod:`kubeadm_py.cli.bind`), and calls
the same invoker with the same keyword arguments typer would pass.

It accepts only the unambiguous subset: known long options as ``--name value`` / ``--name=value``,
boolean flags as ``--name`` or ``--name=<Go boolean>`` (:mod:`kubeadm_py.cli.argv`), the short
names of the registry, ``-o``/``-v``; integers as plain digits;
list options repeated. Anything else — ``--help``, an unknown or repeated option, a missing value,
a positional argument, ``--`` — returns None and the typer app handles the command line, error
messages included. ``tests/unit/cli/test_fastpath.py`` checks that both parse every option of every
command to the same keyword arguments. Why this parser exists, with numbers: docs/speed.md."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, NamedTuple

WORKFLOWS = ("init", "reset", "join")  # the workflow commands of kubeadm_py.cli.app
_INT = re.compile(r"0|[1-9][0-9]{0,17}")


class Parsed(NamedTuple):
    workflow: str
    only: list[str] | None  # None: the whole workflow; else the phase path, as the binder passes it
    kwargs: dict[str, Any]


def _command(workflow: str, args: Sequence[str]) -> tuple[list[str], list[str] | None, int] | None:
    """(flag names, only, index of the first option) for ``workflow [phase path...]``."""
    from kubeadm_py import workflows
    from kubeadm_py.cli.bind import phase_flags, workflow_flags

    wf = workflows.get(workflow)
    if len(args) < 2 or args[1] != "phase":
        if wf.arguments:  # join's positional endpoint: left to typer
            return None
        return workflow_flags(wf.flags), None, 1
    level: Sequence[Any] = wf.phases()
    i, path = 2, ""
    while i < len(args):
        phase = next((p for p in level if p.name == args[i] and not p.hidden), None)
        if phase is None:
            return None
        path = f"{path}/{phase.name}" if path else phase.name
        i += 1
        if not phase.children:
            return phase_flags(phase), [path], i
        if i < len(args) and args[i] == "all" and phase.all_command:
            return phase_flags(phase), [path], i + 1
        level = phase.children
    return None


def parse(args: Sequence[str]) -> Parsed | None:
    """The workflow, phase selection and keyword arguments for ``args``, or None (use typer)."""
    if not args or args[0] not in WORKFLOWS:
        return None
    from kubeadm_py.options import FLAGS, GO_BOOLS

    cmd = _command(args[0], args)
    if cmd is None:
        return None
    names, only, i = cmd
    specs = [FLAGS[n] for n in dict.fromkeys(names)]
    long = {f"--{s.name}": s for s in specs}
    short = {f"-{s.short}": s for s in specs if s.short}
    kwargs: dict[str, Any] = {"output": "text", "verbose": False}
    kwargs.update({s.param: None for s in specs})
    seen: set[str] = set()
    rest = list(args[i:])
    while rest:
        tok = rest.pop(0)
        name, eq, inline = tok.partition("=") if tok.startswith("--") else (tok, "", "")
        kind: type
        if name in ("-o", "--output"):
            key, kind = "output", str
        elif name in ("-v", "--verbose"):
            key, kind = "verbose", bool
        elif name in long or name in short:
            spec = long.get(name) or short[name]
            key, kind = spec.param, spec.type
        else:
            return None  # --help, unknown options, positionals, "--"
        if key in seen and kind is not list:
            return None
        seen.add(key)
        if kind is bool:
            if eq and inline not in GO_BOOLS:
                return None  # typer's error message
            kwargs[key] = GO_BOOLS[inline] if eq else True
            continue
        if eq:
            value = inline
        elif rest and (not rest[0].startswith("-") or rest[0] == "-"):
            value = rest.pop(0)
        else:
            return None
        if kind is int:
            if not _INT.fullmatch(value):
                return None
            kwargs[key] = int(value)
        elif kind is list:
            kwargs[key] = [*(kwargs[key] or []), value]
        elif kind is str:
            kwargs[key] = value
        else:
            return None
    return Parsed(args[0], only, kwargs)


def run(args: Sequence[str]) -> bool:
    """Run the command if :func:`parse` accepts it; False when the typer app must handle it."""
    parsed = parse(args)
    if parsed is None:
        return False
    from kubeadm_py.cli.run import workflow_invoker

    workflow_invoker(parsed.workflow)(parsed.kwargs, parsed.only)
    return True
