"""The kubeadm configuration API (``kubeadm.k8s.io/v1beta4``, with v1beta3/v1beta2 converted).

Public surface (imported lazily, so ``import kubeadm_py.config`` stays cheap):

* :func:`build_config` ``(kind, config=None, overrides=None, *, dynamic_defaults=True)`` ->
  :class:`KubeadmConfig`
* :func:`load_documents`, :func:`validate`, :func:`migrate`, :func:`print_defaults`,
  :func:`to_yaml`
* :func:`default_kubelet_config`, :func:`default_kubeproxy_config` (component configs)
* :func:`parse_duration`, :func:`format_duration`, :func:`duration_seconds` (Go durations,
  from :mod:`kubeadm_py.durations`)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from kubeadm_py.config.types import KubeadmConfig

if TYPE_CHECKING:
    from kubeadm_py.config.componentconfigs import default_kubelet_config, default_kubeproxy_config
    from kubeadm_py.config.resolve import (
        build_config,
        dump_documents,
        load_documents,
        migrate,
        print_defaults,
        to_yaml,
        validate,
    )
    from kubeadm_py.durations import duration_seconds, format_duration, parse_duration

_LAZY = {
    "build_config": "kubeadm_py.config.resolve",
    "load_documents": "kubeadm_py.config.resolve",
    "validate": "kubeadm_py.config.resolve",
    "migrate": "kubeadm_py.config.resolve",
    "print_defaults": "kubeadm_py.config.resolve",
    "to_yaml": "kubeadm_py.config.resolve",
    "dump_documents": "kubeadm_py.config.resolve",
    "default_kubelet_config": "kubeadm_py.config.componentconfigs",
    "default_kubeproxy_config": "kubeadm_py.config.componentconfigs",
    "parse_duration": "kubeadm_py.durations",
    "format_duration": "kubeadm_py.durations",
    "duration_seconds": "kubeadm_py.durations",
}

__all__ = [
    "KubeadmConfig",
    "build_config",
    "load_documents",
    "validate",
    "migrate",
    "print_defaults",
    "to_yaml",
    "dump_documents",
    "default_kubelet_config",
    "default_kubeproxy_config",
    "parse_duration",
    "format_duration",
    "duration_seconds",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
