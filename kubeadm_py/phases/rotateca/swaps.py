"""Static Pod swaps of ``certs rotate-ca`` that a kill cannot cut short: the shared marked swap
(``phases/shared/manifest_swaps.py``) with rotate-ca's mark,
``/etc/kubernetes/tmp/kubeadm-py-ca-rotation-swap-<component>``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.phases.rotateca.common import PREFIX
from kubeadm_py.phases.shared import manifest_swaps

if TYPE_CHECKING:
    from kubeadm_py.phases.rotateca.state import RotateCAContext
    from kubeadm_py.upgrade.staticpods import ManifestSwap

MARK = "kubeadm-py-ca-rotation-swap-{}"


def mark_path(component: str) -> str:
    return manifest_swaps.mark_path(MARK, component)


def swap(ctx: RotateCAContext, wanted: list[ManifestSwap]) -> bool:
    """Swap the components of ``wanted`` whose manifest differs, after waiting for those an interrupted
    run swapped; False when every manifest was already the wanted one and nothing was waited for."""
    return manifest_swaps.swap_marked(ctx, ctx.state.node_name, ctx.state.timestamp, wanted, MARK, PREFIX)
