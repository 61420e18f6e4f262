"""``init phase wait-control-plane``: wait for the kubelet's /healthz, then for every control-plane
component's health endpoint, taken from the static Pod manifests on disk (util/apiclient/wait.go).

Waiting goes through ``ctx.fx.waiter`` (its dry-run twin says what it would wait for); the checks
are GETs of the health URLs (:func:`kubeadm_py.host.health.http_check`). Between polls a
:class:`~kubeadm_py.effectors.watch.ComponentWatch` reads the containers of the components (and
etcd) through the CRI and the kubelet's process: a component that keeps exiting, or a kubelet that
is not running, ends the wait within seconds, naming the component, its exit code and its last
log lines (``outputs.failures`` in ``-o json`` and the run journal). On timeout the error names the
unhealthy components, the last error seen for each and where to look.

kubeadm-py waits for all three components' health at every minor. Upstream kubeadm waits for
the API server only up to v1.32 (``waitForAPI``; the ``WaitForAllControlPlaneComponents`` gate,
alpha from v1.30, kubernetes/kubernetes#123341, off by default) and for all of them from v1.33
(the gate beta and on by default, kubernetes/kubeadm#2907); docs/failfast.md has the table."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kubeadm_py.constants import KUBELET_CONFIG_FILE
from kubeadm_py.effectors.waiting import Target, seconds_text
from kubeadm_py.effectors.watch import ComponentsFailed
from kubeadm_py.errors import KubeadmError
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext

# urllib and the manifest helpers (yaml) are imported where they are used: building the phase tree
# for any kubeadm-py command imports this module.

POLL_INTERVAL = 1.0
COMPONENTS = (
    # name, flag for the address, default address, default port
    ("kube-apiserver", "advertise-address", "127.0.0.1", 6443),
    ("kube-controller-manager", "bind-address", "127.0.0.1", 10257),
    ("kube-scheduler", "bind-address", "127.0.0.1", 10259),
)


def health_target(name: str, url: str, what: str | None = None) -> Target:
    """Wait for ``url`` to answer HTTP 200 (TLS not verified)."""

    def check() -> tuple[bool, str]:
        from kubeadm_py.host.health import http_check

        return http_check(url)

    return Target(name, what or f"{name} to be healthy at {url}", check)


def kubelet_url(ctx: AnyContext) -> str:
    """The kubelet's /healthz URL, from the config.yaml written for it."""
    from kubeadm_py.kubelet.config import healthz_url
    from kubeadm_py.manifests.pod import from_yaml

    text = ctx.fs.read_text(f"{ctx.kubelet_dir}/{KUBELET_CONFIG_FILE}")
    kc = from_yaml(text, KUBELET_CONFIG_FILE) if text else None
    return healthz_url(kc if isinstance(kc, dict) else None)


def kubelet_target(ctx: AnyContext, url: str | None = None) -> Target:
    """The kubelet's health endpoint (``url``, else from its config.yaml) as a waiter target, named
    ``kubelet`` (init's wait-control-plane, join)."""
    url = url or kubelet_url(ctx)
    return health_target("kubelet", url, f"the kubelet to be healthy at {url}")


def component_urls(ctx: AnyContext) -> dict[str, str]:
    """Health URLs of the control-plane components whose manifests exist, from their command lines."""
    from kubeadm_py.manifests.args import get_arg, parse_command
    from kubeadm_py.manifests.pod import container_command, join_host_port
    from kubeadm_py.manifests.write import read_static_pod
    from kubeadm_py.versions import release_for

    rel = release_for(ctx.cfg.kubernetes_version)
    out: dict[str, str] = {}
    for name, addr_flag, default_addr, default_port in COMPONENTS:
        pod = read_static_pod(ctx.fs, ctx.manifests_dir, name)
        if pod is None:
            continue
        args = parse_command(container_command(pod))
        addr = get_arg(args, addr_flag) or default_addr
        if addr in ("0.0.0.0", ""):
            addr = "127.0.0.1"
        elif addr == "::":
            addr = "::1"
        port = get_arg(args, "secure-port") or str(default_port)
        out[name] = f"https://{join_host_port(addr, port)}{rel.health_paths[name]}"
    return out


def _hint(unhealthy: dict[str, str], manifests_dir: str) -> str:
    return (
        "the kubelet may not be running or may not be able to start the static Pods in "
        f"{manifests_dir}; look at 'journalctl -xeu kubelet' (or the kubelet's log), at "
        "'crictl --runtime-endpoint <criSocket> ps -a' and 'crictl logs <container>' for "
        f"{', '.join(n for n in unhealthy if n != 'kubelet') or 'the failing containers'}; common causes are "
        "a cgroup driver mismatch between the kubelet and the container runtime, swap enabled, or images "
        "that cannot be pulled"
    )


def _watched(ctx: AnyContext, urls: dict[str, str]) -> list[str]:
    """The containers the component wait watches: the waited components and local etcd."""
    from kubeadm_py.manifests.write import read_static_pod

    etcd = ["etcd"] if read_static_pod(ctx.fs, ctx.manifests_dir, "etcd") is not None else []
    return etcd + list(urls)


def _failed(ctx: AnyContext, e: ComponentsFailed) -> ComponentsFailed:
    """Keep the failure for ``-o json`` and the journal, and print the log tails."""
    ctx.outputs.failures = [r.to_json() for r in e.reports]
    if e.details:
        ctx.log(f"[control-plane-check] {e.details}")
    return e


def run_wait_control_plane(ctx: AnyContext) -> list[Change]:
    try:
        return _wait(ctx)
    except ComponentsFailed as e:
        raise _failed(ctx, e) from None


def _wait(ctx: AnyContext) -> list[Change]:
    from kubeadm_py.phases.shared.kit import component_watch

    waiter = ctx.fx.waiter
    kubelet_timeout = waiter.timeout(ctx.cfg.timeout("kubeletHealthCheck"))
    cp_timeout = waiter.timeout(ctx.cfg.timeout("controlPlaneComponentHealthCheck"))
    url = kubelet_url(ctx)
    urls = component_urls(ctx)
    ctx.log(
        f"[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from "
        f'directory "{ctx.manifests_dir}"'
    )
    ctx.log(
        f"[kubelet-check] Waiting for a healthy kubelet at {url}. "
        f"This can take up to {seconds_text(kubelet_timeout)}"
    )
    kubelet = kubelet_target(ctx, url)
    with component_watch(ctx, ()) as watch:
        bad = waiter.wait_all(
            [kubelet],
            kubelet_timeout,
            interval=POLL_INTERVAL,
            log=ctx.log,
            prefix="[kubelet-check]",
            watch=watch,
        )
    if bad:
        raise KubeadmError(
            f"the kubelet is not healthy after {seconds_text(kubelet_timeout)}: {url}: {bad['kubelet']}",
            hint="check that the kubelet is running ('systemctl status kubelet', 'journalctl -xeu kubelet') "
            "and that /var/lib/kubelet/config.yaml and kubeadm-flags.env are valid",
        )
    if not urls:
        raise KubeadmError(
            f"no control-plane static Pod manifests in {ctx.manifests_dir} to wait for",
            hint="run the control-plane phase first",
        )
    ctx.log(
        "[control-plane-check] Waiting for healthy control plane components. "
        f"This can take up to {seconds_text(cp_timeout)}"
    )
    for name, component_url in urls.items():
        ctx.log(f"[control-plane-check] Checking {name} at {component_url}")
    targets = [health_target(name, u) for name, u in urls.items()]
    with component_watch(ctx, _watched(ctx, urls)) as watch:
        bad = waiter.wait_all(
            targets,
            cp_timeout,
            interval=POLL_INTERVAL,
            log=ctx.log,
            prefix="[control-plane-check]",
            watch=watch,
        )
    if bad:
        details = "; ".join(f"{n} ({urls[n]}): {e}" for n, e in bad.items())
        raise KubeadmError(
            f"control plane components not healthy after {seconds_text(cp_timeout)}: {details}",
            hint=_hint(bad, ctx.manifests_dir),
        )
    return []


def wait_control_plane_phase() -> Phase[AnyContext]:
    return Phase(
        "wait-control-plane",
        "Wait for the kubelet and the control plane components to be healthy",
        run=run_wait_control_plane,
        flags=("config", "dry-run", "rootfs"),
    )
