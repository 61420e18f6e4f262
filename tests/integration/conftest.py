"""Integration-test fixtures: the Kubernetes v1.20.2 test bed (see tests/testbed/)."""
import os
import sys

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if _ROOT not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repo root on sys.path
    sys.path.insert(0, _ROOT)

from tests.testbed.fixtures import *  # noqa: E402,F401,F403  (testbed fixtures + report hook)
