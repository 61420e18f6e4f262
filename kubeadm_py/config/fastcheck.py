"""Fast accept path of config validation: the JSON Schema subset our schemas use, checked directly.

Every kubeadm-py command that reads a config validates it, and importing ``jsonschema`` (with
``referencing``, ``attrs`` and its format checkers) costs 60-100 ms of CPU per process, a third of
an ECDSA ``init phase certs all`` (docs/speed.md). Most configs are valid, so validation runs in two
steps:

1. :func:`known_valid` walks the document along its schema (a few dozen dictionary look-ups) and
   answers "valid" or "not sure";
2. on "not sure" (invalid, or anything unexpected) :mod:`kubeadm_py.config.validation` runs
   ``jsonschema``, which finds every problem and words the errors users see.

A document accepted here is one ``jsonschema`` accepts: the keywords of :data:`SUPPORTED_KEYWORDS`
are checked with ``jsonschema``'s Draft 2020-12 meaning (integers include ``1.0``, ``True`` is not
``1`` in ``enum``/``const``, ``pattern`` is ``re.search``, ``format`` uses the same checkers), a
schema with any other keyword gets no fast path (:func:`unsupported_keywords`), and
``tests/unit/config/test_fastcheck.py`` compares both verdicts on thousands of mutated documents.
Nothing is generated, cached or executed from outside the package.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from typing import Any

from kubeadm_py.config.formats import FORMATS

# Keywords checked by _valid (the last four are annotations: nothing to check).
SUPPORTED_KEYWORDS = frozenset(
    {
        "$ref", "$defs", "additionalProperties", "anyOf", "const", "enum", "format", "items",
        "maximum", "minLength", "minimum", "pattern", "properties", "required", "type",
        "$id", "$schema", "title", "description",
    }
)  # fmt: skip
_SUBSCHEMA_MAPS = ("properties", "$defs")
_SUBSCHEMAS = ("items", "additionalProperties")

Validate = Callable[[Any], bool]

# jsonschema's Draft 2020-12 type checker, for the values YAML and JSON parsing produce.
_TYPES: dict[str, Callable[[Any], bool]] = {
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": lambda v: (
        (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer())
    ),
}


def unsupported_keywords(schema: dict[str, Any]) -> set[str]:
    """Keywords of ``schema`` (at any depth) outside :data:`SUPPORTED_KEYWORDS`, and ``$ref``
    when it points outside the document."""
    found: set[str] = set()

    def walk(node: Any) -> None:
        if not isinstance(node, dict):
            return
        found.update(k for k in node if k not in SUPPORTED_KEYWORDS)
        if not str(node.get("$ref", "#/")).startswith("#/"):
            found.add("$ref")
        for key in _SUBSCHEMA_MAPS:
            for sub in (node.get(key) or {}).values():
                walk(sub)
        for key in _SUBSCHEMAS:
            walk(node.get(key))
        for sub in node.get("anyOf") or ():
            walk(sub)

    walk(schema)
    return found


def _equal(a: Any, b: Any) -> bool:
    """jsonschema's equality for enum/const: booleans never equal numbers, 1 == 1.0."""
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(_equal, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(v, b[k]) for k, v in a.items())
    return bool(a == b)


def _resolve(root: dict[str, Any], ref: str) -> Any:
    node: Any = root
    for part in ref.removeprefix("#/").split("/"):
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _valid(node: Any, value: Any, root: dict[str, Any]) -> bool:
    """Whether ``value`` satisfies the (sub)schema ``node`` of ``root``."""
    if isinstance(node, bool):
        return node
    checks = (
        ("$ref" not in node or _valid(_resolve(root, node["$ref"]), value, root))
        and ("type" not in node or _has_type(value, node["type"]))
        and ("enum" not in node or any(_equal(value, e) for e in node["enum"]))
        and ("const" not in node or _equal(value, node["const"]))
        and ("anyOf" not in node or any(_valid(s, value, root) for s in node["anyOf"]))
    )
    if not checks:
        return False
    if isinstance(value, dict):
        props, extra = node.get("properties", {}), node.get("additionalProperties", True)
        return all(k in value for k in node.get("required", ())) and all(
            _valid(props.get(k, extra), v, root) for k, v in value.items()
        )
    if isinstance(value, list):
        return all(_valid(node.get("items", True), v, root) for v in value)
    if isinstance(value, str):
        fmt = FORMATS.get(node.get("format", ""))
        return (
            len(value) >= node.get("minLength", 0)
            and ("pattern" not in node or re.search(node["pattern"], value) is not None)
            and (fmt is None or fmt(value) is None)
        )
    if _TYPES["number"](value):
        return bool(value >= node.get("minimum", value) and value <= node.get("maximum", value))
    return True


def _has_type(value: Any, types: str | list[str]) -> bool:
    return any(_TYPES[t](value) for t in ([types] if isinstance(types, str) else types))


@functools.cache
def validator(api_version: str, kind: str) -> Validate | None:
    """A function telling whether a document is valid against the schema of (apiVersion, kind);
    None when there is no schema or it uses a keyword this module does not check."""
    from kubeadm_py.config.validation import load_schema

    schema = load_schema(api_version, kind)
    if schema is None or unsupported_keywords(schema):
        return None
    return functools.partial(_valid, schema, root=schema)


def known_valid(api_version: str, kind: str, body: Any) -> bool:
    """True when the fast check accepts ``body``; False means "run jsonschema" (not "invalid").
    ``KUBEADM_PY_SLOW_VALIDATION=1`` turns the fast path off (to compare, or to rule it out)."""
    if os.environ.get("KUBEADM_PY_SLOW_VALIDATION"):
        return False
    check = validator(api_version, kind)
    if check is None:
        return False
    try:
        return check(body)
    except Exception:  # noqa: BLE001 - anything unexpected (a deep document, odd keys): jsonschema decides
        return False
