"""A seeded mutation fuzz of the configuration loader and validator (no extra dependency; a fixed
seed keeps CI reproducible): every mutant of the sample configurations is accepted or refused
with one KubeadmError line — never another exception (the CLI's "internal error", exit 70)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from kubeadm_py.config.resolve import build_config, validate
from kubeadm_py.errors import KubeadmError

DATA = Path(__file__).parent / "data"
SAMPLES = sorted(DATA.glob("*.yaml"))
# Fragments that reach the YAML parser's and validator's corners.
TOKENS = [
    "!!binary aGk=", "!!set {a}", "!!omap [{a: 1}]", "!!python/object:os.system", "&a [1, 2]", "*a",
    "<<: *a", "? [a]", ": ", "[", "{", "- ", "---\n", "...\n", "\t", "\x00", "\ufeff", "~", "null",
    "1e400", "-0x1", "0o7", ".inf", "2001-12-14t21:59:43.10-05:00", "'", '"\\x', "%YAML 1.1\n",
    "!local x", "|\n  a", ">-\n  b", "a" * 70_000, ",".join(["x"] * 20), "\r\n", "💥",
]  # fmt: skip
MUTANTS = 200


def _mutate(rng: random.Random, text: str) -> str:
    for _ in range(rng.randint(1, 4)):
        i, j = sorted(rng.randrange(len(text) + 1) for _ in range(2))
        op = rng.randrange(4)
        if op == 0:
            text = text[:i] + rng.choice(TOKENS) + text[i:]
        elif op == 1:
            text = text[:i] + text[j:]
        elif op == 2:
            text = text[:i] + text[i:j] * rng.randint(2, 5) + text[j:]
        else:
            text = text[:i] + chr(rng.randrange(32, 0x2FF)) + text[i + 1 :]
    return text


@pytest.mark.parametrize("sample", SAMPLES, ids=[p.name for p in SAMPLES])
def test_mutants_fail_in_one_line(sample: Path) -> None:
    rng = random.Random(sample.name)
    base = sample.read_text()
    refused = 0
    for _ in range(MUTANTS):
        text = _mutate(rng, base)
        try:
            validate(text=text, source="fuzz.yaml")
            kind = "join" if "JoinConfiguration" in text else "init"
            build_config(kind, text, dynamic_defaults=False)  # defaulting and conversion of what passed
        except KubeadmError as e:
            refused += 1
            message = str(e)
            assert "\n" not in message.strip() and "internal error" not in message, (text, message)
    assert refused > MUTANTS // 4  # the mutations do reach the error paths
