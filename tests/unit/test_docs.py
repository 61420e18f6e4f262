"""Documentation that must stay true: the generated phase table and the runnable API example."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_phases_doc_in_sync() -> None:
    from kubeadm_py.workflows.docs import phases_markdown

    committed = (ROOT / "docs/phases.md").read_text()
    assert committed == phases_markdown(), (
        "docs/phases.md is stale: python -m kubeadm_py.workflows.docs > docs/phases.md"
    )


def test_api_example_runs(tmp_path: Path) -> None:
    text = (ROOT / "docs/api.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", text, re.S)
    assert len(blocks) == 1
    script = tmp_path / "example.py"
    script.write_text(blocks[0])
    r = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    assert r.returncode == 0, r.stderr
    assert "certs/ca" in r.stdout and "changed" in r.stdout
    assert re.search(r"\d+ files and \d+ API objects would be written", r.stdout)
