"""Preparing the context of ``upgrade apply`` and ``upgrade node`` before the first phase: the facts
(:mod:`kubeadm_py.upgrade.facts`) go to the state, ``ctx.cfg`` becomes the cluster's configuration
at the target version."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.upgrade.facts import configure, gather, resolve_target

if TYPE_CHECKING:
    from kubeadm_py.phases.upgrade.state import UpgradeContext


def prepare(ctx: UpgradeContext, section: str) -> None:
    """The workflows' ``prepare`` hook: gather facts, resolve the target, configure ``ctx.cfg``."""
    client = ctx.kube()
    f = gather(client, ctx.fs, ctx.cfg, ctx.options, section, ctx.manifests_dir)
    ctx.state.facts_ = f
    ctx.cfg = configure(client, ctx.cfg, ctx.options, f, resolve_target(f, ctx.cfg, ctx.options.version))
