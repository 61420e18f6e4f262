"""``reset phase remove-etcd-member`` (upstream ``cmd/phases/reset/removeetcdmember.go``).

When this node runs a local etcd (``/etc/kubernetes/manifests/etcd.yaml`` exists) its member is
removed from the etcd cluster by peer URL, unless it is the last member or already gone, and the
etcd data directory is handed to ``cleanup-node`` (``ResetState.dirs_to_clean``). The
peer URL, client URLs and data directory come from the manifest (``--initial-advertise-peer-urls``,
the ``kubeadm.kubernetes.io/etcd.advertise-client-urls`` annotation or ``--advertise-client-urls``,
the ``etcd-data`` hostPath volume or ``--data-dir``). A failure to remove the member is a warning
with the exact ``etcdctl`` command to finish by hand, as upstream: reset is best effort.

The etcd cluster is reached through the membership effector ``ctx.fx.etcd``; in a dry run its twin
contacts no etcd and lists no member, so this node's member is planned for removal by peer URL.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.errors import KubeadmError
from kubeadm_py.manifests.etcd import LocalEtcd, read_local_etcd
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.effectors.etcd import EtcdMembership
    from kubeadm_py.etcd.client import Member
    from kubeadm_py.phases.reset.state import ResetContext

ETCD_MANIFEST = "etcd.yaml"
REACH_TIMEOUT = 15.0


def etcd_api_timeout(ctx: ResetContext) -> float:
    """ResetConfiguration ``timeouts.etcdAPICall`` (defaulted by the configuration)."""
    return ctx.cfg.timeout("etcdAPICall")


def reset_cert_dir(ctx: ResetContext) -> str:
    return str((ctx.cfg.reset or {}).get("certificatesDir") or ctx.cfg.cert_dir).rstrip("/")


def _client(ctx: ResetContext, endpoints: list[str], timeout: float) -> EtcdMembership:
    client = ctx.fx.etcd(endpoints, reset_cert_dir(ctx))
    client.timeout = timeout
    return client


def _own_member(members: list[Member], peer_url: str) -> Member | None:
    return next((m for m in members if peer_url.rstrip("/") in [u.rstrip("/") for u in m.peer_urls]), None)


def manual_removal_command(ctx: ResetContext, local: LocalEtcd, member_id: int | None) -> str:
    cd = reset_cert_dir(ctx)
    target = format(member_id, "x") if member_id else f"<ID of the member with peer URL {local.peer_url}>"
    return (
        f"ETCDCTL_API=3 etcdctl --endpoints <client URL of another member> --cacert {cd}/etcd/ca.crt "
        f"--cert {cd}/etcd/healthcheck-client.crt --key {cd}/etcd/healthcheck-client.key "
        f"member remove {target}"
    )


def run_remove_etcd_member(ctx: ResetContext) -> list[Change]:
    path = f"{ctx.manifests_dir.rstrip('/')}/{ETCD_MANIFEST}"
    text = ctx.fs.read_text(path)
    if text is None:
        ctx.log("[reset] No etcd config found. Assuming external etcd")
        ctx.log("[reset] Please, manually reset etcd to prevent further issues")
        return []
    local = read_local_etcd(text, path)
    if local.data_dir not in ctx.state.dirs_to_clean:
        ctx.state.dirs_to_clean.append(local.data_dir)
    target = f"etcd member {local.name or '?'} ({local.peer_url})"
    full = etcd_api_timeout(ctx)
    member_id: int | None = None
    try:
        # The member list waits at most REACH_TIMEOUT: an etcd that cannot be reached that long
        # (stopped, crashed) will not come back for reset; the removal gets the full etcdAPICall.
        members = _client(ctx, local.client_urls, min(REACH_TIMEOUT, full)).members()
        if not members:  # no membership known (a dry run asks no etcd): remove by peer URL
            ctx.log(f"[reset] No etcd member list (etcd not asked): {target} is to be removed by peer URL")
            ctx.log(f"[reset] The etcd data directory {local.data_dir} is cleaned by cleanup-node")
            return [Change("object", "delete", target, "to be removed from the etcd cluster (not contacted)")]
        me = _own_member(members, local.peer_url)
        if me is None:
            ctx.log(f"[reset] No etcd member with peer URL {local.peer_url}: already removed")
            return []
        member_id = me.id
        if len(members) == 1:
            ctx.log("[reset] This is the only remaining etcd member in the etcd cluster, skip removing it")
            return []
        # Ask the members that stay first: the removed one stops serving once the change applies.
        others = [u.rstrip("/") for m in members if m.id != me.id for u in m.client_urls]
        ctx.log(f"[reset] Removing etcd member {me.name or format(me.id, 'x')} ({local.peer_url})")
        _client(ctx, list(dict.fromkeys([*others, *local.client_urls])), full).remove_member(me.id)
    except KubeadmError as e:
        command = manual_removal_command(ctx, local, member_id)
        ctx.log(f"[reset] WARNING: Failed to remove etcd member: {e}")
        ctx.log(f"[reset] Please, manually remove this etcd member using etcdctl: {command}")
        ctx.outputs.manual(f"remove {target} from the etcd cluster", command)
        return [Change("note", "unchanged", target, f"NOT removed: {e}")]
    remaining = len(members) - 1
    ctx.log(f"[reset] Removed {target}; {remaining} member{'s' if remaining != 1 else ''} remain")
    return [Change("object", "delete", target, f"id {format(me.id, 'x')} removed from the etcd cluster")]


def remove_etcd_member_phase() -> Phase[ResetContext]:
    return Phase(
        name="remove-etcd-member",
        help="Remove a local etcd member.\n\nRemove a local etcd member for a control plane node: its member "
        "is removed from the etcd cluster by peer URL (skipped when it is the last member or already "
        "gone) and its data directory is cleaned by cleanup-node.",
        run=run_remove_etcd_member,
        flags=("kubeconfig", "dry-run", "cert-dir"),
    )
