"""``init phase wait-control-plane``: wait for the kubelet's /healthz, then for every control-plane
component's health endpoint, taken from the static Pod manifests on disk (util/apiclient/wait.go).

TLS verification is skipped (as upstream: the components serve self-signed or cluster-CA certificates
and only liveness matters here). On timeout the error names the unhealthy components, the last error
seen for each and where to look."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBELET_CONFIG_FILE
from kubeadm_py.errors import KubeadmError
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.phases.context import RunContext

# ssl, urllib and the manifest helpers (yaml) are imported where they are used: building the phase
# tree for any kubeadm-py command imports this module.

POLL_INTERVAL = 1.0
COMPONENTS = (
    # name, flag for the address, default address, default port
    ("kube-apiserver", "advertise-address", "127.0.0.1", 6443),
    ("kube-controller-manager", "bind-address", "127.0.0.1", 10257),
    ("kube-scheduler", "bind-address", "127.0.0.1", 10259),
)

Check = Callable[[str], "tuple[bool, str]"]


@dataclass
class Target:
    name: str
    url: str


def http_check(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """GET ``url``; healthy on HTTP 200. TLS certificates are not verified."""
    import ssl
    import urllib.error
    import urllib.request

    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=ctx) as r:  # noqa: S310 - local health URL
            body = r.read(256).decode(errors="replace").strip()
            return r.status == 200, f"HTTP {r.status} {body}"
    except urllib.error.HTTPError as e:
        return False, f"HTTP {e.code} {e.read(256).decode(errors='replace').strip()}"
    except (urllib.error.URLError, OSError) as e:
        reason = getattr(e, "reason", e)
        return False, str(reason)


def _fmt(seconds: float) -> str:
    m, s = divmod(int(round(seconds)), 60)
    h, m = divmod(m, 60)
    return (f"{h}h" if h else "") + (f"{m}m" if h or m else "") + f"{s}s"


def kubelet_target(ctx: RunContext) -> Target:
    from kubeadm_py.kubelet.config import healthz_url
    from kubeadm_py.manifests.pod import from_yaml

    text = ctx.fs.read_text(f"{ctx.kubelet_dir}/{KUBELET_CONFIG_FILE}")
    kc = from_yaml(text, KUBELET_CONFIG_FILE) if text else None
    return Target("kubelet", healthz_url(kc if isinstance(kc, dict) else None))


def component_targets(ctx: RunContext) -> list[Target]:
    """Health URLs of the control-plane components whose manifests exist, from their command lines."""
    from kubeadm_py.manifests.args import get_arg, parse_command
    from kubeadm_py.manifests.pod import container_command, join_host_port
    from kubeadm_py.manifests.write import read_static_pod
    from kubeadm_py.versions import release_for

    rel = release_for(ctx.cfg.kubernetes_version)
    out = []
    for name, addr_flag, default_addr, default_port in COMPONENTS:
        pod = read_static_pod(ctx, name)
        if pod is None:
            continue
        args = parse_command(container_command(pod))
        addr = get_arg(args, addr_flag) or default_addr
        if addr in ("0.0.0.0", ""):
            addr = "127.0.0.1"
        elif addr == "::":
            addr = "::1"
        port = get_arg(args, "secure-port") or str(default_port)
        out.append(Target(name, f"https://{join_host_port(addr, port)}{rel.health_paths[name]}"))
    return out


def wait_for(
    targets: list[Target],
    timeout: float,
    log: Callable[[str], None],
    prefix: str,
    check: Check = http_check,
    interval: float = POLL_INTERVAL,
    clock: Callable[[], float] = time.monotonic,
) -> dict[str, str]:
    """Poll every target until healthy or ``timeout``; returns {name: last error} of the unhealthy ones."""
    start = clock()
    pending = {t.name: t for t in targets}
    last: dict[str, str] = {t.name: "not checked yet" for t in targets}
    for t in targets:
        log(f"{prefix} Checking {t.name} at {t.url}")
    while pending:
        for name, t in list(pending.items()):
            ok, detail = check(t.url)
            if ok:
                log(f"{prefix} {name} is healthy after {_fmt(clock() - start)}")
                del pending[name]
            else:
                last[name] = detail
        if not pending or clock() - start >= timeout:
            break
        time.sleep(min(interval, max(0.0, timeout - (clock() - start))))
    return {n: last[n] for n in pending}


def _hint(unhealthy: dict[str, str], manifests_dir: str) -> str:
    return (
        "the kubelet may not be running or may not be able to start the static Pods in "
        f"{manifests_dir}; look at 'journalctl -xeu kubelet' (or the kubelet's log), at "
        "'crictl --runtime-endpoint <criSocket> ps -a' and 'crictl logs <container>' for "
        f"{', '.join(n for n in unhealthy if n != 'kubelet') or 'the failing containers'}; common causes are "
        "a cgroup driver mismatch between the kubelet and the container runtime, swap enabled, or images "
        "that cannot be pulled"
    )


def run_wait_control_plane(ctx: RunContext) -> list[Change]:
    kubelet_timeout = ctx.cfg.timeout("kubeletHealthCheck")
    cp_timeout = ctx.cfg.timeout("controlPlaneComponentHealthCheck")
    kubelet = kubelet_target(ctx)
    components = component_targets(ctx)
    if ctx.dry_run:
        ctx.log(
            f"[dryrun] Would wait for the kubelet to be healthy at {kubelet.url} (up to {_fmt(kubelet_timeout)})"  # noqa: E501
        )
        for t in components:
            ctx.log(f"[dryrun] Would wait for {t.name} to be healthy at {t.url} (up to {_fmt(cp_timeout)})")
        return []
    ctx.log(
        f"[wait-control-plane] Waiting for the kubelet to boot up the control plane as static Pods from "
        f'directory "{ctx.manifests_dir}"'
    )
    ctx.log(
        f"[kubelet-check] Waiting for a healthy kubelet at {kubelet.url}. This can take up to {_fmt(kubelet_timeout)}"  # noqa: E501
    )
    bad = wait_for([kubelet], kubelet_timeout, ctx.log, "[kubelet-check]")
    if bad:
        raise KubeadmError(
            f"the kubelet is not healthy after {_fmt(kubelet_timeout)}: {kubelet.url}: {bad['kubelet']}",
            hint="check that the kubelet is running ('systemctl status kubelet', 'journalctl -xeu kubelet') "
            "and that /var/lib/kubelet/config.yaml and kubeadm-flags.env are valid",
        )
    if not components:
        raise KubeadmError(
            f"no control-plane static Pod manifests in {ctx.manifests_dir} to wait for",
            hint="run the control-plane phase first",
        )
    ctx.log(
        f"[control-plane-check] Waiting for healthy control plane components. This can take up to {_fmt(cp_timeout)}"  # noqa: E501
    )
    bad = wait_for(components, cp_timeout, ctx.log, "[control-plane-check]")
    if bad:
        details = "; ".join(
            f"{n} ({next(t.url for t in components if t.name == n)}): {e}" for n, e in bad.items()
        )
        raise KubeadmError(
            f"control plane components not healthy after {_fmt(cp_timeout)}: {details}",
            hint=_hint(bad, ctx.manifests_dir),
        )
    return []


def wait_control_plane_phase() -> Phase:
    return Phase(
        "wait-control-plane",
        "Wait for the kubelet and the control plane components to be healthy",
        run=run_wait_control_plane,
        flags=("config", "dry-run", "rootfs"),
    )
