"""The fast accept path of config validation (kubeadm_py/config/fastcheck.py) must never accept a
document jsonschema rejects: compared here on valid documents and on hundreds of mutations of
them, for every schema kubeadm-py ships."""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from kubeadm_py.config import fastcheck
from kubeadm_py.config.resolve import print_defaults
from kubeadm_py.config.schemagen import SCHEMA_DIR
from kubeadm_py.config.validation import load_schema, validator_for

DATA = Path(__file__).with_name("data")
SCHEMAS = sorted(p.name for p in SCHEMA_DIR.glob("*.json"))
# Values that break most fields one way or another: wrong types, bad formats, out of range.
BAD_VALUES: tuple[Any, ...] = (
    "not valid!",
    "",
    -5,
    70000,
    1.5,
    True,
    None,
    [],
    {"bogus": 1},
    ["x"],
    [{"name": "x"}],
)


def _api_kind(schema_name: str) -> tuple[str, str]:
    stem = schema_name.removesuffix(".json")
    group_version, kind = stem.rsplit("_", 1)
    group, version = group_version.rsplit("_", 1)
    return f"{group}/{version}", kind


def _valid_documents() -> list[dict[str, Any]]:
    docs: list[dict[str, Any]] = []
    for path in sorted(DATA.glob("*.yaml")):
        docs.extend(d for d in yaml.safe_load_all(path.read_text()) if d)
    for kind in ("init", "join", "reset", "upgrade"):
        text = print_defaults(kind, ["KubeletConfiguration", "KubeProxyConfiguration"])  # type: ignore[arg-type]
        docs.extend(d for d in yaml.safe_load_all(text) if d)
    return docs


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    if isinstance(node, dict):
        for k, v in node.items():
            yield (*prefix, k)
            yield from _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield (*prefix, i)
            yield from _paths(v, (*prefix, i))


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> Any:
    out = copy.deepcopy(doc)
    node = out
    for p in path[:-1]:
        node = node[p]
    node[path[-1]] = value
    return out


def _mutations(doc: dict[str, Any]) -> Iterator[dict[str, Any]]:
    for path in _paths(doc):
        if path in (("apiVersion",), ("kind",)):
            continue
        for bad in BAD_VALUES:
            yield _set(doc, path, bad)
        if isinstance(_get(doc, path), dict):
            yield _set(doc, path, {**_get(doc, path), "unknownFieldX": 1})
    yield {**doc, "unknownTopLevel": True}


def _get(doc: Any, path: tuple[Any, ...]) -> Any:
    for p in path:
        doc = doc[p]
    return doc


@pytest.fixture(autouse=True)
def _fresh() -> None:
    fastcheck.validator.cache_clear()


@pytest.mark.parametrize("name", SCHEMAS)
def test_every_schema_gets_a_fast_validator(name: str) -> None:
    api, kind = _api_kind(name)
    schema = load_schema(api, kind)
    assert schema is not None
    assert fastcheck.unsupported_keywords(schema) == set()
    assert fastcheck.validator(api, kind) is not None


def test_fast_and_jsonschema_agree_on_documents_and_mutations() -> None:
    compared = rejected = 0
    for doc in _valid_documents():
        api, kind = doc["apiVersion"], doc["kind"]
        fast = fastcheck.validator(api, kind)
        slow = validator_for(api, kind)
        assert fast is not None and slow is not None, (api, kind)
        assert fast(doc), f"fast validator rejects a valid {api} {kind}"
        assert not list(slow.iter_errors(doc)), f"sample {api} {kind} is not valid"
        for mutated in _mutations(doc):
            slow_ok = not any(True for _ in slow.iter_errors(mutated))
            assert fast(mutated) == slow_ok, (api, kind, mutated)
            compared += 1
            rejected += not slow_ok
    # The corpus is meaningful: thousands of cases, a large share of them invalid (the printed
    # KubeletConfiguration/KubeProxyConfiguration carry the many zero-valued fields upstream
    # serialises, whose schemas accept most mutations, so fewer than half are rejected).
    assert compared > 3000 and rejected > compared // 3, (compared, rejected)


def test_unsupported_keyword_disables_the_fast_path() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}}
    assert fastcheck.unsupported_keywords(schema) == {"maxLength"}
    nested = {"$defs": {"x": {"anyOf": [{"not": {"type": "null"}}]}}}
    assert fastcheck.unsupported_keywords(nested) == {"not"}
    assert fastcheck.unsupported_keywords({"items": {"$ref": "other.json#/x"}}) == {"$ref"}


def test_known_valid_is_false_for_invalid_and_unknown_kinds() -> None:
    init = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration"}
    assert fastcheck.known_valid("kubeadm.k8s.io/v1beta4", "InitConfiguration", init)
    assert not fastcheck.known_valid("kubeadm.k8s.io/v1beta4", "InitConfiguration", {**init, "x": 1})
    assert not fastcheck.known_valid("kubeadm.k8s.io/v9", "Nothing", init)


def test_a_valid_config_is_checked_without_importing_jsonschema() -> None:
    code = (
        "import sys; sys.modules['jsonschema'] = None\n"
        "from kubeadm_py.config import fastcheck\n"
        "api, kind = 'kubeadm.k8s.io/v1beta4', 'ClusterConfiguration'\n"
        "doc = {'apiVersion': api, 'kind': kind, 'networking': {'serviceSubnet': '10.96.0.0/12'}}\n"
        "print(fastcheck.known_valid(api, kind, doc), fastcheck.known_valid(api, kind, {**doc, 'x': 1}))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False"]


@pytest.mark.parametrize(
    ("schema", "value", "valid"),
    [
        ({"type": "integer"}, 3.0, True),  # Draft 2020-12: an integral float is an integer
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"enum": [1, "a"]}, True, False),  # True is not 1
        ({"enum": [1, "a"]}, 1.0, True),
        ({"const": [1, {"a": False}]}, [1, {"a": 0}], False),
        ({"type": ["string", "null"]}, None, True),
        ({"pattern": "^a"}, "ba", False),
        ({"pattern": "a"}, "ba", True),  # re.search, like jsonschema
        ({"pattern": "^a"}, 5, True),  # string keywords ignore other types
        ({"minimum": 1, "maximum": 3}, 4, False),
        ({"minimum": 1}, "0", True),
        ({"minLength": 2}, "é", False),
        ({"items": {"type": "string"}}, ["a", 1], False),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 1.5, False),
        ({"required": ["a"], "properties": {"a": False}}, {"a": 1}, False),
        ({"additionalProperties": False, "properties": {"a": {}}}, {"a": 1, "b": 2}, False),
        ({"$defs": {"D": {"type": "string"}}, "properties": {"a": {"$ref": "#/$defs/D"}}}, {"a": 1}, False),
        ({"format": "ip"}, "10.0.0.300", False),
        ({"format": "ip"}, 10, True),
        ({"format": "unknown-format"}, "x", True),
    ],
)
def test_keyword_semantics_match_jsonschema(schema: dict[str, Any], value: Any, valid: bool) -> None:
    from jsonschema import Draft202012Validator

    from kubeadm_py.config.validation import _format_checker

    assert fastcheck._valid(schema, value, schema) is valid
    assert Draft202012Validator(schema, format_checker=_format_checker()).is_valid(value) is valid
