"""The workflows kubeadm-py runs (init, join, reset), each an ordered phase tree."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kubeadm_py.workflows.base import Workflow

# name -> module defining WORKFLOW; imported on demand so `kubeadm-py version` stays fast.
_MODULES = {
    "init": "kubeadm_py.workflows.init",
    "upgrade-apply": "kubeadm_py.workflows.upgrade_apply",
    "upgrade-node": "kubeadm_py.workflows.upgrade_node",
    "reset": "kubeadm_py.workflows.reset",
    "join": "kubeadm_py.workflows.join",
    "certs-rotate-sa": "kubeadm_py.workflows.certs_rotate_sa",
    "selfhosting-pivot": "kubeadm_py.workflows.selfhosting_pivot",
    "certs-rotate-ca": "kubeadm_py.workflows.certs_rotate_ca",
}


def names() -> list[str]:
    return list(_MODULES)


def get(name: str) -> Workflow[Any]:
    if name not in _MODULES:
        from kubeadm_py.errors import KubeadmError

        raise KubeadmError(f"unknown workflow {name!r}", hint=f"workflows are: {', '.join(_MODULES)}")
    wf: Workflow[Any] = importlib.import_module(_MODULES[name]).WORKFLOW
    return wf
