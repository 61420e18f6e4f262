"""The ``kubeconfig`` phase: admin, super-admin, kubelet, controller-manager, scheduler.

``kubeconfig_phase()`` is init's; :func:`join_kubeconfig_phase` (admin, controller-manager,
scheduler) is a joining control plane's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.kubeconfig.specs import KUBECONFIGS, KubeconfigSpec, join_names
from kubeadm_py.phases.shared.certs import CA, pki_settings
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext


def _run(
    spec: KubeconfigSpec, batch: tuple[KubeconfigSpec, ...] = ()
) -> Callable[[AnyContext], list[Change]]:
    def run(ctx: AnyContext) -> list[Change]:
        from kubeadm_py.kubeconfig.files import ensure_kubeconfig

        return ensure_kubeconfig(
            ctx.fs, ctx.cfg, spec, ctx.kubeconfig_dir, pki_settings(ctx), ctx.log, batch=batch or (spec,)
        )

    run.__name__ = f"run_kubeconfig_{spec.name.replace('-', '_')}"
    return run


def kubeconfig_child(spec: KubeconfigSpec, batch: tuple[KubeconfigSpec, ...] = ()) -> Phase[AnyContext]:
    """``batch``: the sibling kubeconfigs (their keys are generated together, see ensure_kubeconfig)."""
    return Phase(
        name=spec.name,
        help=spec.help,
        run=_run(spec, batch),
        flags=spec.flags,
        requires=(CA,),
        provides=(f"kubeconfig/{spec.name}",),
        run_if=None if spec.since is None else (lambda ctx: spec.applies_to(ctx.cfg.kubernetes_version)),
    )


def kubeconfig_phase(names: Iterable[str] | None = None, name: str = "kubeconfig") -> Phase[AnyContext]:
    wanted = None if names is None else set(names)
    specs = tuple(k for k in KUBECONFIGS if wanted is None or k.name in wanted)
    children = tuple(kubeconfig_child(k, specs) for k in specs)
    return Phase(
        name=name,
        help="Generate all kubeconfig files necessary to establish the control plane "
        "and the admin kubeconfig file",
        children=children,
        provides=("kubeconfig",) if wanted is None else (),
    )


def join_kubeconfig_phase() -> Phase[AnyContext]:
    return kubeconfig_phase(names=join_names())
