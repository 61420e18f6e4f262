"""``init phase bootstrap-token``: bootstrap token Secrets, the RBAC that lets them join nodes, the
public ``cluster-info`` ConfigMap and the anonymous Role that exposes it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.phases.shared.kit import ADMIN_KUBECONFIG
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.kube.client import KubeClient
    from kubeadm_py.phases.init.state import InitContext
    from kubeadm_py.tokens.model import BootstrapToken

FLAGS = ("skip-token-print", "config", "kubeconfig", "dry-run")


def init_tokens(ctx: InitContext) -> list[BootstrapToken]:
    """InitConfiguration.bootstrapTokens as models; an empty token is generated and written back so
    later phases (show-join-command) use the same one."""
    from kubeadm_py.tokens.model import BootstrapToken

    init = ctx.cfg.init if ctx.cfg.init is not None else {}
    docs = init.get("bootstrapTokens")
    if docs is None:
        docs = init["bootstrapTokens"] = [{}]
    tokens = []
    for doc in docs:
        tok = BootstrapToken.from_config(doc)
        doc["token"] = str(tok.token)
        tokens.append(tok)
    return tokens


def keep_live_expiration(client: KubeClient, secret: dict[str, Any]) -> dict[str, Any]:
    """Rerunning must not change anything: when the live token Secret is the same token with the
    same properties, keep its expiration instead of pushing it forward."""
    meta = secret["metadata"]
    live = client.get("Secret", meta["name"], meta["namespace"])
    if live is None:
        return secret
    live_data = dict(live.get("data") or {})
    want = dict(secret["data"])
    if "expiration" in live_data and "expiration" in want:
        live_exp = live_data.pop("expiration")
        want.pop("expiration")
        if live_data == want:
            secret["data"]["expiration"] = live_exp
    return secret


def run_bootstrap_token(ctx: InitContext) -> None:
    from datetime import UTC, datetime

    from kubeadm_py.cluster import bootstraptoken as bt
    from kubeadm_py.cluster.kubeconfigs import cluster_info_kubeconfig
    from kubeadm_py.constants import KUBE_PUBLIC
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.kubeconfig.build import kubeconfig_preferences

    tokens = init_tokens(ctx)
    if tokens:
        ctx.state.token = ctx.outputs.token = str(tokens[0].token)
        if not ctx.options.skip_token_print:
            ctx.log(f"[bootstrap-token] Using token: {tokens[0].token.id}.{'*' * 16}")
    ctx.log("[bootstrap-token] Configuring bootstrap tokens, cluster-info ConfigMap, RBAC Roles")
    client = ctx.kube()
    now = datetime.now(UTC)
    for secret in bt.token_secrets(tokens, now):
        client.apply(keep_live_expiration(client, secret))
    for message, objs in bt.node_rbac(ctx.cfg.kubernetes_version):
        for obj in objs:
            client.apply(obj)
        if message:
            ctx.log(f"[bootstrap-token] {message}")
    admin = ctx.fs.read_bytes(ctx.admin_kubeconfig)
    if admin is None:
        raise KubeadmError(f"failed to load admin kubeconfig: {ctx.admin_kubeconfig} not found")
    ctx.log(f'[bootstrap-token] Creating the "{bt.CLUSTER_INFO}" ConfigMap in the "{KUBE_PUBLIC}" namespace')
    # merge: keep the jws-kubeconfig-* signatures the controller-manager's bootstrap signer added
    info = cluster_info_kubeconfig(admin, ctx.admin_kubeconfig, preferences=kubeconfig_preferences(ctx.cfg))
    client.apply(bt.cluster_info_configmap(info), merge=True)
    for obj in bt.cluster_info_rbac():
        client.apply(obj)


def bootstrap_token_phase() -> Phase[InitContext]:
    return Phase(
        name="bootstrap-token",
        help="Generates bootstrap tokens used to join a node to a cluster",
        run=run_bootstrap_token,
        flags=FLAGS,
        requires=(ADMIN_KUBECONFIG,),
        provides=("bootstrap-token",),
    )
