"""kubeadm-py: a kubeadm-style Kubernetes node bootstrap toolbox.

The stable public API lives in :mod:`kubeadm_py.api` (``load_config``, ``run``, ``phase_paths``);
it is imported lazily so that ``import kubeadm_py`` stays cheap."""

from __future__ import annotations

from typing import Any

from kubeadm_py.constants import VERSION as __version__

__all__ = ["__version__", "load_config", "run", "phase_paths"]


def __getattr__(name: str) -> Any:
    if name in ("load_config", "run", "phase_paths"):
        from kubeadm_py import api

        return getattr(api, name)
    raise AttributeError(name)
