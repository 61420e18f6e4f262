"""Property-based fuzz (hypothesis, deterministic profile in tests/unit/conftest.py) of the
configuration loader and validator, seeded with the sample configurations: the files under
data/, what ``config print *-defaults`` prints and the test bed's configurations. Text mutants
reach the YAML parser, tree mutants (a value replaced, a key dropped or added) the validator.
Every input is accepted or refused with one line naming it, never a traceback, never
"unexpected", in bounded memory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from kubeadm_py.config.resolve import build_config, print_defaults, validate
from tests.testbed.configs import init_config_v1beta2, init_config_v1beta4
from tests.unit.fuzzing import one_line_refusal, traced

DATA = Path(__file__).parent / "data"
SEEDS = [p.read_text() for p in sorted(DATA.glob("*.yaml"))] + [
    print_defaults("init", ["KubeletConfiguration,KubeProxyConfiguration"]),  # type: ignore[list-item]
    print_defaults("join", []),
    print_defaults("reset", []),
    print_defaults("upgrade", []),
    init_config_v1beta4("10.0.0.5", "cp-1", token="abcdef.0123456789abcdef", control_plane_endpoint="cp"),
    init_config_v1beta2("10.0.0.5", "cp-1", pod_subnet="10.244.0.0/16"),
]
# Fragments that reach the YAML parser's and validator's corners.
TOKENS = [
    "!!binary aGk=", "!!set {a}", "!!omap [{a: 1}]", "!!python/object:os.system", "&a [1, 2]", "*a",
    "<<: *a", "? [a]", ": ", "[", "{", "- ", "---\n", "...\n", "\t", "\x00", "\ufeff", "~", "null",
    "1e400", "-0x1", "0o7", ".inf", "2001-12-14t21:59:43.10-05:00", "'", '"\\x', "%YAML 1.1\n",
    "!local x", "|\n  a", ">-\n  b", "a" * 70_000, ",".join(["x"] * 20), "\r\n", "💥",
]  # fmt: skip
# Values kubeadm fields take, wrong in type or range somewhere.
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=40),
    st.sampled_from(["1h", "-1h", "0s", "3days", "10.0.0.0/8", "::1", "v1.99.0", "v1.20.2", "a.b", "*", ""]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner, max_size=4),
    max_leaves=12,
)


def _load(text: str) -> None:
    validate(text=text, source="fuzz.yaml")
    kind = _kind(text)
    if kind is not None:  # defaulting and conversion of what passed
        build_config(kind, text, dynamic_defaults=False)


def _kind(text: str) -> str | None:
    """The workflow whose documents the text holds (init needs an Init- or ClusterConfiguration,
    join a JoinConfiguration, as upstream); None for component configs alone, which only
    ``config validate`` reads."""
    if "InitConfiguration" in text or "ClusterConfiguration" in text:
        return "init"
    kinds = (
        ("JoinConfiguration", "join"),
        ("ResetConfiguration", "reset"),
        ("UpgradeConfiguration", "upgrade"),
    )
    return next((kind for doc_kind, kind in kinds if doc_kind in text), None)
    for doc_kind, kind in (
        ("JoinConfiguration", "join"),
        ("ResetConfiguration", "reset"),
        ("UpgradeConfiguration", "upgrade"),
    ):
        if doc_kind in text:
            return kind
    return "init"


@pytest.fixture(scope="module", autouse=True)
def _warm() -> None:
    for text in SEEDS:  # imports and caches are not what an input costs
        one_line_refusal(lambda t=text: _load(t), len(text), "seed")  # type: ignore[misc]


@st.composite
def text_mutants(draw: st.DrawFn) -> str:
    text = draw(st.sampled_from(SEEDS))
    for _ in range(draw(st.integers(1, 4))):
        i, j = sorted(draw(st.integers(0, len(text))) for _ in range(2))
        op = draw(st.integers(0, 3))
        if op == 0:
            text = text[:i] + draw(st.sampled_from(TOKENS) | st.text(max_size=12)) + text[i:]
        elif op == 1:
            text = text[:i] + text[j:]
        elif op == 2:
            text = text[:i] + text[i:j] * draw(st.integers(2, 5)) + text[j:]
        else:
            text = text[:i] + draw(st.characters()) + text[i + 1 :]
    return text


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


@st.composite
def tree_mutants(draw: st.DrawFn) -> str:
    docs = [d for d in yaml.safe_load_all(draw(st.sampled_from(SEEDS))) if d]
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(_paths(docs)[1:]))
        parent = docs
        for key in path[:-1]:
            parent = parent[key]
        op = draw(st.integers(0, 2))
        if op == 0 or not isinstance(parent, dict):
            parent[path[-1]] = draw(VALUES)
        elif op == 1:
            del parent[path[-1]]
        else:
            parent[draw(st.text(max_size=12))] = draw(VALUES)
    return yaml.safe_dump_all(docs, allow_unicode=True)


@given(text_mutants())
def test_text_mutants_fail_in_one_line(text: str) -> None:
    with traced():
        one_line_refusal(lambda: _load(text), len(text.encode()), text[:200], names="fuzz.yaml")


@given(tree_mutants())
def test_tree_mutants_fail_in_one_line(text: str) -> None:
    with traced():
        one_line_refusal(lambda: _load(text), len(text.encode()), text[:400], names="fuzz.yaml")


@given(data=st.binary(max_size=2000) | st.text(max_size=2000).map(str.encode))
def test_arbitrary_bytes_fail_in_one_line(data: bytes, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.getbasetemp() / "fuzz.yaml"
    path.write_bytes(data)  # as --config reads it: bytes, decoded by the loader

    def load() -> None:
        validate(str(path))
        build_config("init", str(path), dynamic_defaults=False)

    with traced():
        one_line_refusal(load, len(data), data[:200], names=str(path))
