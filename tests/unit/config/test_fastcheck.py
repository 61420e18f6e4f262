"""The fast accept path of config validation (kubeadm_py/config/fastcheck.py) must never accept a
document jsonschema rejects: compared here on valid documents and on hundreds of mutations of
them, for every schema kubeadm-py ships."""

from __future__ import annotations

import copy
import os
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
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KUBEADM_PY_CACHE_DIR", str(tmp_path / "cache"))
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
    # The corpus is meaningful: thousands of cases, most of them invalid.
    assert compared > 3000 and rejected > compared // 2, (compared, rejected)


def test_unsupported_keyword_disables_the_fast_path() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}}
    assert fastcheck.unsupported_keywords(schema) == {"maxLength"}
    nested = {"$defs": {"x": {"anyOf": [{"not": {"type": "null"}}]}}}
    assert fastcheck.unsupported_keywords(nested) == {"not"}


def test_known_valid_is_false_for_invalid_and_unknown_kinds() -> None:
    init = {"apiVersion": "kubeadm.k8s.io/v1beta4", "kind": "InitConfiguration"}
    assert fastcheck.known_valid("kubeadm.k8s.io/v1beta4", "InitConfiguration", init)
    assert not fastcheck.known_valid("kubeadm.k8s.io/v1beta4", "InitConfiguration", {**init, "x": 1})
    assert not fastcheck.known_valid("kubeadm.k8s.io/v9", "Nothing", init)


def test_validators_are_cached_and_reused(tmp_path: Path) -> None:
    api, kind = "kubeadm.k8s.io/v1beta4", "ClusterConfiguration"
    assert fastcheck.validator(api, kind) is not None
    files = list((tmp_path / "cache").glob("*ClusterConfiguration*.marshal"))
    assert len(files) == 1 and files[0].stat().st_mode & 0o777 == 0o644
    # A fresh process loads the cached code without importing fastjsonschema or jsonschema.
    code = (
        "import sys; sys.modules['fastjsonschema'] = None; sys.modules['jsonschema'] = None\n"
        "from kubeadm_py.config import fastcheck\n"
        f"v = fastcheck.validator({api!r}, {kind!r})\n"
        f"doc = {{'apiVersion': {api!r}, 'kind': {kind!r}}}\n"
        "print(v(doc), v({**doc, 'x': 1}), 'decimal' in sys.modules)\n"
    )
    env = {**os.environ, "KUBEADM_PY_CACHE_DIR": str(tmp_path / "cache")}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "False", "False"]


def test_untrusted_cache_file_is_not_loaded(tmp_path: Path) -> None:
    api, kind = "kubeadm.k8s.io/v1beta4", "ResetConfiguration"
    assert fastcheck.validator(api, kind) is not None
    (cached,) = (tmp_path / "cache").glob("*ResetConfiguration*.marshal")
    # Replace it with code that would accept anything, writable by others: must be ignored.
    import marshal

    evil = compile("def validate(data, custom_formats={}, name_prefix=None):\n    return data\n", "x", "exec")
    cached.write_bytes(marshal.dumps(evil))
    cached.chmod(0o666)
    fastcheck.validator.cache_clear()
    check = fastcheck.validator(api, kind)
    assert check is not None
    assert not check({"apiVersion": api, "kind": kind, "unknownField": 1})


def test_warm_all_caches_every_schema(tmp_path: Path) -> None:
    assert fastcheck.warm_all() == len(SCHEMAS)
    assert len(list((tmp_path / "cache").glob("*.marshal"))) == len(SCHEMAS)
