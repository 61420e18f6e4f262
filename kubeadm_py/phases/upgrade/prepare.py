"""Preparing the context of ``upgrade apply`` and ``upgrade node`` before the first phase: the facts
(:mod:`kubeadm_py.upgrade.facts`) go to the state, ``ctx.cfg`` becomes the cluster's configuration
at the target version."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from kubeadm_py.constants import KUBELET_KUBECONFIG, KUBERNETES_DIR
from kubeadm_py.upgrade.config import is_control_plane
from kubeadm_py.upgrade.facts import configure, gather, resolve_target

if TYPE_CHECKING:
    from kubeadm_py.phases.upgrade.state import UpgradeContext


def prepare(ctx: UpgradeContext, section: str) -> None:
    """The workflows' ``prepare`` hook: gather facts, resolve the target, configure ``ctx.cfg``.

    Without ``--kubeconfig``, ``upgrade node`` on a worker talks to the cluster with the kubelet's
    kubeconfig, as upstream's ``newNodeData`` (cmd/kubeadm/app/cmd/upgrade/node.go, e.g. at commit
    803d40a5: admin.conf on a control-plane node, kubelet.conf otherwise; older releases such as the
    node.go at commit 01c04683 defaulted to kubelet.conf on every node)."""
    if section == "node" and not ctx.options.kubeconfig and not is_control_plane(ctx.fs, ctx.manifests_dir):
        kubelet_conf = f"{KUBERNETES_DIR}/{KUBELET_KUBECONFIG}"
        ctx.options = dataclasses.replace(ctx.options, kubeconfig=kubelet_conf)
    client = ctx.kube()
    f = gather(client, ctx.fs, ctx.cfg, ctx.options, section, ctx.manifests_dir)
    ctx.state.facts_ = f
    ctx.cfg = configure(client, ctx.cfg, ctx.options, f, resolve_target(f, ctx.cfg, ctx.options.version))
