"""Phase ``published-trust`` of ``certs rotate-ca``: ConfigMap kube-system/extension-apiserver-authentication
(what aggregated API servers trust for client certificates and front-proxy requests) holds each rotated
CA's trust, and after ``finish`` the new CAs alone (docs/pki.md, "extension-apiserver-authentication").

Every kube-apiserver's cluster-authentication-trust controller (k8s.io/kubernetes
``pkg/controlplane/controller/clusterauthenticationtrust``) writes there the union of what the ConfigMap
holds and the CA files it loaded, dropping expired certificates only; with the ConfigMap absent it writes
its files' CAs alone. It syncs on every event of the ConfigMap, so a write that removes the old CA is
undone at once by an API server that has not reloaded its file yet (v1.20 reads it again once a minute,
``dynamiccertificates.FileRefreshDuration``), and stays undone: the union keeps it. So at ``finish`` the
ConfigMap is deleted, and deleted again while an API server writes it back with the old CA, until every
API server recreates it from new-only files. Only the last control-plane node to sync ``finish`` does
this: before that, another API server still reads the old CA from its bundle."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.phases.rotateca.common import PREFIX, rotation_of, run_client

if TYPE_CHECKING:
    from kubeadm_py.certs.rotateca import Rotation
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.phases.rotateca.state import RotateCAContext

AUTH_CONFIGMAP = "extension-apiserver-authentication"
RETRY_INTERVAL = 3.0  # seconds between reads (and deletes) while an API server still publishes the old CA


def run_published(ctx: RotateCAContext) -> list[Change]:
    from kubeadm_py.certs import rotateca as rc

    rot = rotation_of(ctx)
    if rot is None or not ctx.state.control_plane:
        return []
    client = run_client(ctx)
    cm = client.get("ConfigMap", AUTH_CONFIGMAP, KUBE_SYSTEM)
    if rot.stage == "finished":
        if cm is not None and not rc.stale_published(cm.get("data") or {}, rot):
            return []
        return _republish(ctx, client, rot, cm is not None)
    if cm is None:
        return []  # the API servers write it from their files, which hold both CAs until finish
    # begin, switch: both CAs trusted; the controller keeps this superset (the union)
    data = cm.get("data") or {}
    stale = set(rc.stale_published(data, rot))
    wanted = {ca.published: rot.trust_of(ca.name).decode() for ca in rot.cas if ca.published in stale}
    if not wanted:
        return []
    obj = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": AUTH_CONFIGMAP, "namespace": KUBE_SYSTEM},
        "data": wanted,
    }
    detail = f"{', '.join(wanted)}: the trusted {'+'.join(rot.spec.trust)} CAs"
    return [client.apply(obj, merge=True, detail=detail)]


def _republish(ctx: RotateCAContext, client: KubeClient, rot: Rotation, present: bool) -> list[Change]:
    """After finish: delete the ConfigMap until the API servers write it back with the new CAs alone."""
    from kubeadm_py.certs import rotateca as rc
    from kubeadm_py.verify.env import is_control_plane_node

    others = [
        n
        for n in client.list("Node")
        if is_control_plane_node(n) and (n.get("metadata") or {}).get("name") != ctx.state.node_name
    ]
    late = rc.lagging_nodes(others, rot, "finished")
    if late:
        ctx.log(
            f"{PREFIX} {KUBE_SYSTEM}/{AUTH_CONFIGMAP} keeps the old CA while the API servers of "
            f"{', '.join(late)} trust it (their controller merges it back): the sync of the last "
            "control-plane node removes it"
        )
        return []
    target = f"ConfigMap {KUBE_SYSTEM}/{AUTH_CONFIGMAP}"
    if present:
        ctx.log(
            f"{PREFIX} Deleting {target}: the API servers write it again from their CA files, which hold "
            "the new CAs alone once reloaded (kube-apiserver v1.20 reloads them every minute)"
        )
        client.delete("ConfigMap", AUTH_CONFIGMAP, KUBE_SYSTEM)

    def check() -> tuple[bool, str]:
        cm = client.get("ConfigMap", AUTH_CONFIGMAP, KUBE_SYSTEM)
        if cm is None:
            return False, "not written again yet"
        stale = rc.stale_published(cm.get("data") or {}, rot)
        if not stale:
            return True, ""
        client.delete("ConfigMap", AUTH_CONFIGMAP, KUBE_SYSTEM)  # written back from a file not reloaded yet
        return False, f"written back with the old CA in {', '.join(stale)}; deleted again"

    what = f"{target} to list only the new CAs"
    ok, detail = ctx.fx.waiter.until(
        what, check, ctx.cfg.timeout("controlPlaneComponentHealthCheck"), interval=RETRY_INTERVAL
    )
    if not ok:
        raise KubeadmError(
            f"{target} did not come back with only the new CAs ({detail}): an API server has not "
            "reloaded its CA files",
            hint="check that every control-plane node synced finish, then rerun 'kubeadm-py certs rotate-ca "
            "sync' on one; by hand: kubectl -n kube-system delete configmap " + AUTH_CONFIGMAP,
        )
    ctx.log(f"{PREFIX} {target} lists only the new CAs")
    return []
