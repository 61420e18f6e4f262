from __future__ import annotations

import json
from importlib import resources

import pytest
from jsonschema import Draft202012Validator

from kubeadm_py.config.schemagen import all_schemas, render


def test_shipped_schemas_are_current() -> None:
    """The JSON files in kubeadm_py/config/schemas are what schemagen builds (regenerate with
    ``python -m kubeadm_py.config.schemagen``)."""
    shipped = resources.files("kubeadm_py.config").joinpath("schemas")
    names = sorted(p.name for p in shipped.iterdir() if p.name.endswith(".json"))
    expected = all_schemas()
    assert names == sorted(expected)
    for name, schema in expected.items():
        assert shipped.joinpath(name).read_text(encoding="utf-8") == render(schema), name


@pytest.mark.parametrize("name", sorted(all_schemas()))
def test_schemas_are_valid_draft_2020_12(name: str) -> None:
    schema = all_schemas()[name]
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)
    if name.startswith("kubeadm.k8s.io"):
        assert schema["additionalProperties"] is False


def _objects(node: object):  # type: ignore[no-untyped-def]
    if isinstance(node, dict):
        if node.get("type") == "object" and "properties" in node:
            yield node
        for v in node.values():
            yield from _objects(v)
    elif isinstance(node, list):
        for v in node:
            yield from _objects(v)


@pytest.mark.parametrize("name", [n for n in sorted(all_schemas()) if n.startswith("kubeadm.k8s.io")])
def test_kubeadm_objects_reject_unknown_fields(name: str) -> None:
    schema = json.loads(render(all_schemas()[name]))
    for obj in _objects(schema):
        assert obj.get("additionalProperties") is False, obj.get("properties", {}).keys()
