"""The README's test command runs two pytest-xdist workers (``-n 2``). Every test under
tests/integration/ (real components: openssl, etcd, the v1.20.2 test bed) is one work unit, run in
collection order on one worker, so one test bed runs at a time and each module's cluster is shared by
its tests as without xdist; the other worker runs the unit tests beside them, one test at a time.

pytest-xdist's own ``--dist loadgroup`` would do this with an ``xdist_group`` mark, but it renames
the test ids, which pytest 9.2 no longer lets a plugin do; so the scheduler is its module scheduler
with the scope named here (``pytest_xdist_make_scheduler``, an xdist hook)."""

from __future__ import annotations

from typing import Any

import pytest

REAL_COMPONENTS = "tests/integration/"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadScopeScheduling

    class RealComponentsInOrder(LoadScopeScheduling):
        """Scopes: tests/integration/ as a whole, every other test by itself. The largest scope is
        handed out first (``--loadscope-reorder``, the default), so one worker starts on it at once."""

        def _split_scope(self, nodeid: str) -> str:
            return REAL_COMPONENTS if nodeid.startswith(REAL_COMPONENTS) else nodeid

    return RealComponentsInOrder(config, log)
