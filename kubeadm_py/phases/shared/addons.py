"""``init phase addon [coredns|kube-proxy]``: install the essential addons, or print them with
``--print-manifest``. Skipped when ``dns.disabled`` / ``proxy.disabled`` is set."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kubeadm_py.phases.shared.kit import _admin_present
from kubeadm_py.workflow.phase import Phase, Requirement

if TYPE_CHECKING:
    from kubeadm_py.phases.context import AnyContext

COREDNS_FLAGS = (
    "config", "dry-run", "feature-gates", "image-repository", "kubeconfig", "kubernetes-version",
    "print-manifest", "service-cidr", "service-dns-domain",
)  # fmt: skip
PROXY_FLAGS = (
    "apiserver-advertise-address", "apiserver-bind-port", "config", "control-plane-endpoint",
    "image-repository", "kubeconfig", "kubernetes-version", "pod-network-cidr", "print-manifest", "dry-run",
)  # fmt: skip


def _print_only(ctx: AnyContext) -> bool:
    return bool(ctx.options.print_manifest)


ADMIN_OR_PRINT: Requirement[AnyContext] = Requirement(
    "kubeconfig/admin",
    "the admin kubeconfig (/etc/kubernetes/admin.conf, or --kubeconfig); not needed with --print-manifest",
    present=lambda ctx: _print_only(ctx) or _admin_present(ctx),
)


def _disabled(ctx: AnyContext, section: str) -> bool:
    return bool((ctx.cfg.cluster.get(section) or {}).get("disabled"))


def _print(ctx: AnyContext, objs: list[dict[str, Any]]) -> None:
    from kubeadm_py.cluster.kubeproxy import manifest_stream

    ctx.stdout.write(manifest_stream(objs))
    ctx.stdout.flush()


def run_coredns(ctx: AnyContext) -> None:
    from kubeadm_py.cluster import coredns

    client = None if _print_only(ctx) else ctx.kube()
    replicas = coredns.DEFAULT_REPLICAS
    if client is not None:
        live = client.get("Deployment", "coredns", "kube-system")
        if live is not None and (live.get("spec") or {}).get("replicas") is not None:
            replicas = int(live["spec"]["replicas"])  # keep what the user scaled it to
    objs = coredns.objects(ctx.cfg, replicas)
    if client is None:
        _print(ctx, list(objs.values()))
        return
    # CreateOrRetainConfigMap: a Corefile the user edited is kept.
    cm = objs.pop("configmap")
    if client.get("ConfigMap", "coredns", "kube-system") is None:
        client.apply(cm)
    else:
        client.record(
            "unchanged", "ConfigMap kube-system/coredns", "exists: the current Corefile is retained"
        )
    for obj in objs.values():
        client.apply(obj)
    ctx.log("[addons] Applied essential addon: CoreDNS")


def run_kube_proxy(ctx: AnyContext) -> None:
    from kubeadm_py.cluster import kubeproxy

    objs = kubeproxy.objects(ctx.cfg, warn=lambda m: ctx.log(f"[addons] WARNING: {m}"))
    if _print_only(ctx):
        _print(ctx, list(objs.values()))
        return
    client = ctx.kube()
    for obj in objs.values():
        client.apply(obj)
    ctx.log("[addons] Applied essential addon: kube-proxy")


def addon_phase() -> Phase[AnyContext]:
    return Phase(
        name="addon",
        help="Install required addons for passing conformance tests",
        children=(
            Phase(
                "coredns",
                "Install the CoreDNS addon to a Kubernetes cluster",
                run=run_coredns,
                flags=COREDNS_FLAGS,
                requires=(ADMIN_OR_PRINT,),
                run_if=lambda ctx: not _disabled(ctx, "dns"),
                provides=("addon/coredns",),
            ),
            Phase(
                "kube-proxy",
                "Install the kube-proxy addon to a Kubernetes cluster",
                run=run_kube_proxy,
                flags=PROXY_FLAGS,
                requires=(ADMIN_OR_PRINT,),
                run_if=lambda ctx: not _disabled(ctx, "proxy"),
                provides=("addon/kube-proxy",),
            ),
        ),
    )
