"""The hypothesis profile of the unit tests: deterministic (``derandomize``: the same examples on
every run, so CI never flakes on a new one), a fixed number of examples, no per-example deadline
(the machine is shared: speed is for bench/, never a test) and no example database on disk.
``HYPOTHESIS_PROFILE=deep`` explores more, randomly, for a local hunt."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    max_examples=150,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("deep", settings.get_profile("ci"), derandomize=False, max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
