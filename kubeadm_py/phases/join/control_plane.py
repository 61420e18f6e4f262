"""The control-plane parts of ``join`` (upstream ``cmd/phases/join/controlplaneprepare.go`` and
``controlplanejoin.go``): ``control-plane-prepare`` (download-certs, certs, kubeconfig,
control-plane), ``control-plane-join`` (mark-control-plane) and ``wait-control-plane``.

They reuse init's builders (certs filtered to the node-specific certificates, the join kubeconfigs,
the static Pod manifests, mark-control-plane, wait-control-plane) wrapped by
:func:`control_plane_only`: on a worker join they are skipped (and their requirements waived);
on a control-plane join the cluster's configuration is read and checked first."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from kubeadm_py.changes import Change
from kubeadm_py.phases.join import data as join_data
from kubeadm_py.phases.join.state import JoinContext
from kubeadm_py.workflow.phase import Phase, Requirement

RunFn = Callable[[JoinContext], "list[Change] | None"]
Condition = Callable[[JoinContext], bool]

SHARED_CAS = ("ca", "front-proxy-ca", "etcd-ca", "sa")


def _skip_if_worker(top: str, inner: Condition | None) -> Condition:
    def run_if(ctx: JoinContext) -> bool:
        if not join_data.is_control_plane(ctx):
            announced = ctx.state.worker_skips_announced
            if top not in announced:
                announced.add(top)
                ctx.log(f"[{top}] skipped: worker node")
            return False
        return inner is None or bool(inner(ctx))

    return run_if


def _waived(req: Requirement[JoinContext]) -> Requirement[JoinContext]:
    def present(ctx: JoinContext) -> bool:
        return not join_data.is_control_plane(ctx) or bool(req.present(ctx))

    return replace(req, present=present)


def _prepared(run: RunFn) -> RunFn:
    def wrapped(ctx: JoinContext) -> list[Change] | None:
        join_data.require_control_plane_ready(ctx)
        return run(ctx)

    wrapped.__name__ = getattr(run, "__name__", "run")
    return wrapped


def control_plane_only(phase: Phase[JoinContext], top: str | None = None) -> Phase[JoinContext]:
    """``phase`` (and its subtree) runs only on control-plane joins, after the cluster's
    ClusterConfiguration is loaded and the node is checked to be ready for it. On a worker the
    first skipped phase of the subtree logs ``[<top>] skipped: worker node``."""
    top = top or phase.name
    return replace(
        phase,
        run=_prepared(phase.run) if phase.run is not None else None,
        run_if=_skip_if_worker(top, phase.run_if) if phase.run is not None else None,
        requires=tuple(_waived(r) for r in phase.requires),
        children=tuple(control_plane_only(c, top) for c in phase.children),
    )


# --- download-certs ---------------------------------------------------------------------------


def run_download_certs(ctx: JoinContext) -> list[Change]:
    key = join_data.certificate_key(ctx)
    if not key:
        ctx.log(
            "[download-certs] Skipping: no --certificate-key given (the shared certificates must "
            "already be on this node)"
        )
        return [Change("note", "unchanged", "download-certs", "no certificate key: skipped")]
    from kubeadm_py.cluster.copycerts import download_certs, write_downloaded

    ctx.log(
        '[download-certs] Downloading the certificates in Secret "kubeadm-certs" in the '
        '"kube-system" Namespace'
    )
    files = download_certs(join_data.bootstrap_client(ctx), ctx.cfg, key)  # decrypts all before writing
    write_downloaded(ctx.fs, files)
    ctx.log(f"[download-certs] Saved {len(files)} certificates and keys to {ctx.cert_dir}")
    return []


def download_certs_phase() -> Phase[JoinContext]:
    return Phase(
        "download-certs",
        "Download certificates shared among control-plane nodes from the kubeadm-certs Secret",
        run=run_download_certs,
        flags=("certificate-key", "config", "control-plane", "dry-run"),
        provides=SHARED_CAS,
    )


def control_plane_prepare_phase() -> Phase[JoinContext]:
    from kubeadm_py.phases.shared.certs import join_certs_phase
    from kubeadm_py.phases.shared.control_plane import control_plane_phase
    from kubeadm_py.phases.shared.kubeconfig import join_kubeconfig_phase

    children: tuple[Phase[JoinContext], ...] = (
        download_certs_phase(),
        join_certs_phase(),
        join_kubeconfig_phase(),
        control_plane_phase(),
    )
    parent: Phase[JoinContext] = Phase(
        "control-plane-prepare",
        "Prepare the machine for serving a control plane",
        children=children,
    )
    return control_plane_only(parent)


def control_plane_join_phase() -> Phase[JoinContext]:
    from kubeadm_py.phases.shared.mark_control_plane import mark_control_plane_phase

    mark: Phase[JoinContext] = mark_control_plane_phase()
    mark = replace(mark, flags=(*mark.flags, "control-plane"))
    return control_plane_only(
        Phase("control-plane-join", "Join a machine as a control plane instance", children=(mark,))
    )


def join_wait_control_plane_phase() -> Phase[JoinContext]:
    from kubeadm_py.phases.shared.wait_control_plane import wait_control_plane_phase

    return control_plane_only(wait_control_plane_phase())
