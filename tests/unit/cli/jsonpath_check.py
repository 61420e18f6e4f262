"""The check of ``-o jsonpath``: a command's template output equals the same JSONPath expression
evaluated by jsonpath-ng directly on the command's ``-o json`` output, printed as kubectl prints
(matches separated by a space, strings bare, the rest as compact JSON)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

from jsonpath_ng.ext.parser import parse

Run = Callable[[list[str]], str]  # argv -> standard output (the command must succeed)


def json_documents(text: str) -> list[Any]:
    """The JSON documents printed one after another (``token list -o json`` prints one per token)."""
    decoder, docs, i = json.JSONDecoder(), [], 0
    while i < len(text.rstrip()):
        doc, end = decoder.raw_decode(text, i)
        docs.append(doc)
        i = end + len(text[end:]) - len(text[end:].lstrip())
    return docs


def matches(path: str, doc: Any) -> list[Any]:
    return [m.value for m in parse("$" + path).find(doc)]


def kubectl_text(values: Sequence[Any]) -> str:
    return " ".join(v if isinstance(v, str) else json.dumps(v, separators=(",", ":")) for v in values)


def check(run: Run, argv: list[str], paths: Sequence[str]) -> None:
    docs = json_documents(run([*argv, "-o", "json"]))
    assert docs, "the command printed no JSON"
    for path in paths:
        assert any(matches(path, d) for d in docs), f"{path} matches nothing: a vacuous check"
        got = run([*argv, "-o", f"jsonpath={{{path}}}"])
        assert got == "".join(kubectl_text(matches(path, d)) for d in docs), path
        if len(docs) == 1:
            as_json = run([*argv, f"--output=jsonpath-as-json={{{path}}}"])
            assert json.loads(as_json) == matches(path, docs[0]), path
