"""The architecture rules of docs/architecture.md, checked on the source: no dry-run branches and no
untyped contexts in phases, typed run options in sync with the flag registry, layered imports."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kubeadm_py.options import render_run_options

ROOT = Path(__file__).resolve().parents[2]
PHASES = ROOT / "kubeadm_py" / "phases"


def _phase_sources() -> list[Path]:
    files = sorted(PHASES.rglob("*.py"))
    assert len(files) > 20, "the phases package moved?"
    return files


def test_no_dry_run_in_phases() -> None:
    """Dry-run is the effectors' business (their twins): a phase never asks."""
    hits = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in _phase_sources()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if "dry_run" in line
    ]
    assert hits == []


UNTYPED = [r"\bctx: Any\b", r"\bctx\.opts\b", r"\bctx\.state\[", r"\bctx\.state\.get\("]


@pytest.mark.parametrize("pattern", UNTYPED)
def test_phases_use_the_typed_context(pattern: str) -> None:
    rx = re.compile(pattern)
    hits = [
        f"{p.relative_to(ROOT)}:{n}: {line.strip()}"
        for p in _phase_sources()
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if rx.search(line)
    ]
    assert hits == []


def test_run_options_are_generated_from_the_flag_registry() -> None:
    committed = (ROOT / "kubeadm_py" / "run_options.py").read_text()
    assert committed == render_run_options(), "stale: run `python -m kubeadm_py.options`"


def test_import_layers() -> None:
    """The contracts in .importlinter (the layers of docs/architecture.md)."""
    exe = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert exe is not None, "import-linter is a test dependency (pip install -e '.[test]')"
    r = subprocess.run([exe, str(ROOT / ".importlinter")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-4000:]


def test_no_import_cycles_between_packages() -> None:
    """Packages of one layer may import each other, but never both ways (no cycles)."""
    import grimp

    graph = grimp.build_graph("kubeadm_py")
    top = sorted(m for m in graph.find_children("kubeadm_py"))
    cycles = [
        f"{a} <-> {b}"
        for i, a in enumerate(top)
        for b in top[i + 1 :]
        if graph.chain_exists(a, b, as_packages=True) and graph.chain_exists(b, a, as_packages=True)
    ]
    assert len(top) > 20 and cycles == []
