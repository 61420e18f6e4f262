"""The generated v1.20 flag tables (``kubeadm_py/manifests/known_flags_v120.py``) against the test
bed's binaries at test time: every flag their ``--help`` lists is in the table, every name of the
table the binary accepts (hidden ones included), and a name outside it is refused by the binary
itself. Skipped with a reason when the binaries are absent."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from kubeadm_py.manifests.known_flags_v120 import FLAGS

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "tools"))
import gen_known_flags as tool  # noqa: E402

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("component", tool.COMPONENTS)
def test_table_matches_the_binary(component: str) -> None:
    path = Path(tool.binary(tool.TESTBED, component))
    if not path.exists():
        pytest.skip(f"{path} not found (built by testbed/build.sh)")
    shown = tool.help_flags(tool.help_text(str(path)))
    assert shown and shown <= FLAGS[component], sorted(shown - FLAGS[component])
    hidden = FLAGS[component] - shown
    assert all(tool.accepts(str(path), n) for n in hidden), sorted(hidden)
    assert not tool.accepts(str(path), "audit-polcy-file")  # the oracle does refuse unknown names
