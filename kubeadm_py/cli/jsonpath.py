"""kubectl's JSONPath output templates (``-o jsonpath=...``, ``-o jsonpath-as-json=...``,
``-o jsonpath-file=FILE``), evaluated with the kept ``jsonpath-ng`` library.

kubectl's template language (k8s.io/client-go/util/jsonpath) wraps JSONPath in text: everything
outside ``{...}`` is printed as is; inside, what this module handles before handing the path to
jsonpath-ng:

- ``{.a.b}``, ``{.items[*].x}``, ``{..name}``, ``{.items[0]}``, ``{.items[-1]}``, ``{.items[0:2]}``,
  ``{.m['key.with.dots']}``, ``{.items[?(@.x=="y")].z}`` (filters), ``{$}`` and ``{@}``: paths start
  at the current object, which is the document outside ``range`` and the element inside it; a
  leading ``$`` is the whole document;
- ``{range .items[*]}...{end}`` (nestable) repeats its body for every match;
- ``{"\\n"}``, ``{'\\t'}``: string literals with Go's backslash escapes.

Output as kubectl's: the matches of one ``{...}`` are separated by a space; strings are printed
bare, ``true``/``false``/``null`` and numbers as JSON, objects and lists as compact JSON; a path
that matches nothing prints nothing (kubectl's ``--allow-missing-template-keys`` default); no
newline is added. ``jsonpath-as-json`` prints every match as one indented JSON list instead.
Not supported: kubectl's ``go-template`` (a Go template engine, not JSONPath)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from kubeadm_py.errors import KubeadmError

KINDS = ("jsonpath", "jsonpath-as-json", "jsonpath-file")
OUTPUT_HELP = (
    "Output format: text, json, yaml, jsonpath=TEMPLATE, jsonpath-as-json=TEMPLATE or jsonpath-file=FILE "
    "(kubectl's JSONPath templates)."
)


@dataclass(frozen=True)
class Node:
    kind: str  # "text", "expr", "range"
    value: str
    body: tuple[Node, ...] = ()


def _error(template: str, why: str) -> KubeadmError:
    return KubeadmError(f"--output: bad jsonpath template {template!r}: {why}")


def _split(template: str) -> list[tuple[str, str]]:
    """("text", ...) and ("expr", ...) pieces; braces inside quotes or brackets do not count."""
    out: list[tuple[str, str]] = []
    i = 0
    while i < len(template):
        start = template.find("{", i)
        if start < 0:
            out.append(("text", template[i:]))
            break
        if start > i:
            out.append(("text", template[i:start]))
        j, depth, quote = start + 1, 0, ""
        while j < len(template):
            c = template[j]
            if quote:
                if c == "\\":
                    j += 1
                elif c == quote:
                    quote = ""
            elif c in "\"'":
                quote = c
            elif c in "[(":
                depth += 1
            elif c in "])":
                depth -= 1
            elif c == "}" and depth <= 0:
                break
            j += 1
        if j >= len(template):
            raise _error(template, "unclosed {")
        out.append(("expr", template[start + 1 : j].strip()))
        i = j + 1
    return out


def parse(template: str) -> tuple[Node, ...]:
    """The template as nodes (``range`` with its body); raises a one-line error when malformed."""
    stack: list[list[Node]] = [[]]
    opened: list[str] = []
    for kind, value in _split(template):
        if kind == "expr" and (value.startswith("range ") or value == "range"):
            stack.append([])
            opened.append(value[len("range") :].strip())
            continue
        if kind == "expr" and value == "end":
            if not opened:
                raise _error(template, "{end} without {range}")
            body = tuple(stack.pop())
            stack[-1].append(Node("range", opened.pop(), body))
            continue
        if kind == "expr":
            _compile(value, template)  # fail now, before the command does its work
        stack[-1].append(Node(kind, value))
    if opened:
        raise _error(template, "{range} without {end}")
    return tuple(stack[0])


def _literal(expr: str) -> str | None:
    if len(expr) >= 2 and expr[0] == expr[-1] and expr[0] in "\"'":
        return expr[1:-1].encode("latin-1", "backslashreplace").decode("unicode_escape")
    return None


def _compile(expr: str, template: str) -> Any:
    """jsonpath-ng's parsed path for a kubectl path (None for ``$``/``@``/a literal)."""
    if _literal(expr) is not None or expr in ("$", "@", ""):
        return None
    return _compiled(expr, template)


@lru_cache(maxsize=64)
def _compiled(expr: str, template: str) -> Any:
    path = expr[1:] if expr[0] in "$@" else expr
    if not path.startswith((".", "[")):
        path = "." + path
    from jsonpath_ng.exceptions import JsonPathLexerError, JsonPathParserError
    from jsonpath_ng.ext.parser import parse as jp_parse

    try:
        return jp_parse("$" + path)
    except (JsonPathLexerError, JsonPathParserError, Exception) as e:  # it raises plain Exceptions too
        raise _error(template, " ".join(str(e).split())) from None


def _find(expr: str, root: Any, current: Any) -> list[Any]:
    lit = _literal(expr)
    if lit is not None:
        return [lit]
    if expr in ("$", ""):
        return [root]
    if expr == "@":
        return [current]
    base = root if expr.startswith("$") else current
    return [m.value for m in _compile(expr, expr).find(base)]


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _walk(nodes: tuple[Node, ...], root: Any, current: Any, out: list[tuple[bool, list[Any]]]) -> None:
    for n in nodes:
        if n.kind == "text":
            out.append((True, [n.value]))
        elif n.kind == "expr":
            out.append((_literal(n.value) is not None, _find(n.value, root, current)))
        else:
            for item in _find(n.value, root, current):
                _walk(n.body, root, item, out)


def split_format(fmt: str) -> tuple[str, str] | None:
    """(kind, template) for ``jsonpath=...``-style formats, else None."""
    kind, eq, arg = fmt.partition("=")
    if eq and kind in KINDS:
        return kind, arg
    return None


def template_of(kind: str, arg: str) -> str:
    if kind != "jsonpath-file":
        return arg
    try:
        with open(arg, encoding="utf-8") as fh:
            return fh.read()
    except OSError as e:
        raise KubeadmError(f"--output: cannot read the template file {arg}: {e.strerror or e}") from None


def render(kind: str, template: str, data: Any) -> str:
    """The text of ``-o <kind>=<template>`` for ``data`` (a JSON document)."""
    pieces: list[tuple[bool, list[Any]]] = []
    _walk(parse(template), data, data, pieces)
    if kind == "jsonpath-as-json":
        values = [v for literal, vs in pieces if not literal for v in vs]
        return json.dumps(values, indent=4) + "\n"
    return "".join(" ".join(_text(v) for v in vs) for _, vs in pieces)
