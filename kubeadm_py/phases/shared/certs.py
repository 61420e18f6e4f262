"""The ``certs`` phase: one child per entry of the certificate table (upstream order) plus ``sa``.

``certs_phase()`` is init's phase; ``certs_phase(names=specs.node_specific_names())`` (or
:func:`join_certs_phase`) is what a joining control plane runs: it writes only node-specific
certificates and requires the shared CAs to be present (downloaded or copied)."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from kubeadm_py.pki import specs
from kubeadm_py.workflow.phase import Phase, Requirement

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext
    from kubeadm_py.pki.manager import Settings


def pki_settings(ctx: AnyContext) -> Settings:
    """The PKI settings of this run (one validity start for every certificate), computed once."""
    from kubeadm_py.pki import manager

    st = ctx.state.pki_settings
    if st is None or st.cert_dir != ctx.cert_dir:
        st = ctx.state.pki_settings = replace(manager.settings(ctx.cfg), keys=ctx.keys)
    return st


def _run(name: str) -> Callable[[AnyContext], list[Change]]:
    def run(ctx: AnyContext) -> list[Change]:
        from kubeadm_py.pki import manager

        return manager.ensure(ctx.fs, ctx.cfg, name, pki_settings(ctx), ctx.log)

    run.__name__ = f"run_certs_{name.replace('-', '_')}"
    return run


def ca_present(ca_name: str) -> Callable[[AnyContext], bool]:
    """The CA certificate is on disk (its key may be absent: external-CA mode)."""
    base = specs.get(ca_name).base

    def present(ctx: AnyContext) -> bool:
        from kubeadm_py.constants import host_join

        return bool(ctx.fs.exists(host_join(ctx.cert_dir, f"{base}.crt")))

    return present


def ca_requirement(ca_name: str) -> Requirement[AnyContext]:
    """The one definition of "phase needs CA ``ca_name``" (certs, kubeconfig, show-join-command)."""
    base = specs.get(ca_name).base
    return Requirement(
        ca_name,
        f"the {ca_name} certificate authority (<certDir>/{base}.crt and {base}.key)",
        present=ca_present(ca_name),
    )


CA: Requirement[AnyContext] = ca_requirement("ca")  # the cluster CA


def _local_etcd(ctx: AnyContext) -> bool:
    return bool(ctx.cfg.local_etcd)


def cert_phase(spec: specs.CertSpec) -> Phase[AnyContext]:
    return Phase(
        name=spec.name,
        help=spec.help,
        run=_run(spec.name),
        flags=spec.flags,
        requires=() if spec.is_ca else (ca_requirement(str(spec.ca)),),
        provides=(spec.name,),
        run_if=_local_etcd if spec.etcd else None,
    )


def sa_phase() -> Phase[AnyContext]:
    return Phase(
        name=specs.SA_NAME,
        help=specs.SA_HELP,
        run=_run(specs.SA_NAME),
        flags=specs.SA_FLAGS,
        provides=(specs.SA_NAME,),
    )


def certs_phase(names: Iterable[str] | None = None, name: str = "certs") -> Phase[AnyContext]:
    """The certs parent phase; ``names`` restricts the children (table order is kept; ``sa``
    is included only when named or when ``names`` is None)."""
    wanted = None if names is None else set(names)
    children = [cert_phase(c) for c in specs.CERTS if wanted is None or c.name in wanted]
    if wanted is None or specs.SA_NAME in wanted:
        children.append(sa_phase())
    return Phase(
        name=name,
        help="Certificate generation",
        children=tuple(children),
        provides=("pki",) if wanted is None else (),
    )


def join_certs_phase() -> Phase[AnyContext]:
    """Node-specific certificates of a joining control plane (etcd ones only with local etcd)."""
    return certs_phase(names=specs.node_specific_names(local_etcd=True))
