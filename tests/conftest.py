"""Session-wide test settings."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile

# Generated config validators (kubeadm_py/config/fastcheck.py) go to a cache of this test session,
# inherited by every kubeadm-py process the tests start, not to the machine's /var/cache.
if "KUBEADM_PY_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="kubeadm-py-test-cache-")
    os.environ["KUBEADM_PY_CACHE_DIR"] = _cache
    atexit.register(shutil.rmtree, _cache, True)
