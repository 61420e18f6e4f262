"""Helpers shared by the benchmarks: a warm bytecode cache for the kubeadm-py processes they time.

An installed kubeadm-py (``pip install .``, install.sh) runs from compiled bytecode, and an editable
install writes ``__pycache__`` on its first run. A shell with ``PYTHONDONTWRITEBYTECODE=1`` would
instead recompile every kubeadm_py module on every start (~0.1 s), which is not what users run.
:func:`use_bytecode_cache` points the child processes at a bytecode cache outside the repository
(``PYTHONPYCACHEPREFIX``) and :func:`warm_bytecode` fills it once before timing."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PYCACHE = os.environ.get("KUBEADM_PY_BENCH_PYCACHE", "/var/tmp/kubeadm-py-bench-pycache")

# Every kubeadm_py module plus the libraries they import lazily (inside functions).
_WARM = """
import importlib, pkgutil, sys
import kubeadm_py
for m in pkgutil.walk_packages(kubeadm_py.__path__, "kubeadm_py."):
    if m.name.endswith("__main__"):  # importing it runs the CLI
        continue
    try:
        importlib.import_module(m.name)
    except Exception as e:  # a module that needs something absent here: not our concern
        print(f"warm: {m.name}: {e}", file=sys.stderr)
for name in ("typer", "typer._adapters", "pydantic", "jsonschema", "yaml", "rich.console", "kubernetes",
             "cryptography.x509", "cryptography.hazmat.primitives.asymmetric.rsa", "urllib3", "jsonpatch",
             "psutil", "multiprocessing", "concurrent.futures"):
    try:
        importlib.import_module(name)
    except Exception:
        pass
"""


def use_bytecode_cache(enabled: bool = True) -> str:
    """Configure this process's environment (inherited by every child) and describe it."""
    if not enabled:
        return "bytecode cache: as inherited from the environment"
    os.environ.pop("PYTHONDONTWRITEBYTECODE", None)
    os.environ["PYTHONPYCACHEPREFIX"] = PYCACHE
    os.makedirs(PYCACHE, exist_ok=True)
    return f"bytecode cache: warm, PYTHONPYCACHEPREFIX={PYCACHE} (as an installed kubeadm-py runs)"


def warm_bytecode() -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run(
        [sys.executable, "-c", _WARM], cwd=REPO, env=env, timeout=300, check=False, capture_output=True
    )


def median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(a: float, b: float) -> float:
    return a / b if b else float("nan")
