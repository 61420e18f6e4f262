"""``reset phase cleanup-node`` (upstream ``cmd/phases/reset/cleanupnode.go``).

In order: stop the kubelet (``systemctl stop kubelet`` when PID 1 is systemd, otherwise say what
to stop); unmount everything below ``/var/lib/kubelet`` (``unmountFlags`` honoured; the directory
is only cleaned when that worked); stop and remove every Pod sandbox through the CRI; delete the
contents of ``/etc/kubernetes/manifests``, ``/var/lib/kubelet``, the certificate directory, the
etcd data directory (from ``remove-etcd-member`` or the manifest) and, with ``--cleanup-tmp-dir``,
``/etc/kubernetes/tmp``; delete the kubeconfig files kubeadm writes. Every deletion goes through
``ctx.fs.remove``, the kubelet is stopped through ``ctx.fx.services``, mounts through
``ctx.fx.mounts`` and the CRI through ``ctx.fx.cri`` (``--dry-run``: their twins list and record,
``--rootfs`` maps). What reset cannot clean (CNI
configuration, iptables/nftables/IPVS rules, ``$HOME/.kube/config``) is printed with the command
that cleans it, and returned in ``report.outputs["manual_cleanup"]``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from kubeadm_py.constants import (
    ADMIN_KUBECONFIG,
    CERTIFICATES_DIR,
    CONTROLLER_MANAGER_KUBECONFIG,
    KUBELET_BOOTSTRAP_KUBECONFIG,
    KUBELET_DIR,
    KUBELET_KUBECONFIG,
    KUBERNETES_DIR,
    SCHEDULER_KUBECONFIG,
    SUPER_ADMIN_KUBECONFIG,
    TMP_DIR,
)
from kubeadm_py.effectors.cri import endpoint_under
from kubeadm_py.effectors.mounts import UNMOUNT_FLAGS
from kubeadm_py.host.cri import CriError, CriNotRunning
from kubeadm_py.journal import WORKFLOWS, journal_path
from kubeadm_py.kubelet.service import failed, stop_kubelet
from kubeadm_py.manifests.etcd import read_local_etcd
from kubeadm_py.phases.reset.etcd import ETCD_MANIFEST, reset_cert_dir
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.reset.state import ResetContext

KUBECONFIG_FILES = (
    ADMIN_KUBECONFIG,
    SUPER_ADMIN_KUBECONFIG,
    KUBELET_KUBECONFIG,
    KUBELET_BOOTSTRAP_KUBECONFIG,
    CONTROLLER_MANAGER_KUBECONFIG,
    SCHEDULER_KUBECONFIG,
)
CNI_DIR = "/etc/cni/net.d"

# What reset leaves, and exactly how to clean it by hand (also in docs/reset.md).
MANUAL_STEPS = (
    (
        "iptables rules (kube-proxy iptables mode, CNI plugins)",
        "iptables -F && iptables -t nat -F && iptables -t mangle -F && iptables -X && "
        "ip6tables -F && ip6tables -t nat -F && ip6tables -t mangle -F && ip6tables -X",
    ),
    (
        "nftables rules (kube-proxy nftables mode)",
        "nft delete table ip kube-proxy; nft delete table ip6 kube-proxy",
    ),
    ("IPVS tables (kube-proxy ipvs mode)", "ipvsadm --clear"),
)


# --- kubelet ----------------------------------------------------------------------------------


def _kubelet_pids() -> list[int]:
    import psutil

    return [p.pid for p in psutil.process_iter(["name"]) if p.info.get("name") == "kubelet"]


def stop_the_kubelet(ctx: ResetContext) -> list[Change]:
    services = ctx.fx.services
    manager = services.manager()
    if manager == "outside --rootfs":
        ctx.log(
            f"[reset] --rootfs {ctx.fs.rootfs}: not stopping this machine's kubelet service; "
            "make sure no kubelet uses that root"
        )
        return []
    if manager == "systemd":
        change = stop_kubelet(services, ctx.log, "[reset]")
        if change is None:
            ctx.log("[reset] The kubelet service is not running")
            return []
        if failed(change) is not None:
            ctx.log("[reset] Please ensure kubelet is stopped manually: systemctl stop kubelet")
            ctx.outputs.manual("stop the kubelet", "systemctl stop kubelet")
            return []
        return [change]
    pids = _kubelet_pids()
    if pids:
        cmd = "kill " + " ".join(map(str, pids))
        ctx.log("[reset] WARNING: The kubelet could not be stopped by kubeadm-py: PID 1 is not systemd")
        ctx.log(f"[reset] Please stop the kubelet (PID {', '.join(map(str, pids))}) yourself, e.g.: {cmd}")
        ctx.outputs.manual("stop the running kubelet", cmd)
    else:
        ctx.log(
            "[reset] No init system kubeadm-py can drive (PID 1 is not systemd) and no kubelet is running"
        )
    return []


# --- mounts -----------------------------------------------------------------------------------


def unmount_flags(ctx: ResetContext) -> int:
    flags = 0
    for name in (ctx.cfg.reset or {}).get("unmountFlags") or []:
        flags |= UNMOUNT_FLAGS.get(str(name), 0)
    return flags


def unmount_kubelet_dir(ctx: ResetContext) -> tuple[bool, list[Change]]:
    """Unmount everything below the kubelet directory; (whether it may be cleaned, changes)."""
    if not ctx.fs.exists(KUBELET_DIR):
        return True, []
    real = Path(ctx.fs.confined_path(KUBELET_DIR))
    try:
        mounts = ctx.fx.mounts.below(real)
    except OSError as e:
        ctx.log(
            f"[reset] WARNING: cannot read /proc/self/mountinfo ({e.strerror}); not cleaning {KUBELET_DIR}"
        )
        return False, []
    if not mounts:
        return True, []
    ctx.log(f'[reset] Mounted directories in "{KUBELET_DIR}" to unmount: [{" ".join(mounts)}]')
    flags = unmount_flags(ctx)
    changes, failed = [], []
    for m in mounts:
        try:
            changes.append(ctx.fx.mounts.unmount(m, flags))
        except OSError as e:
            failed.append(f"{m}: {e.strerror}")
    if failed:
        ctx.log(
            f"[reset] WARNING: Failed to unmount mounted directories in {KUBELET_DIR}: {'; '.join(failed)}"
        )
        ctx.log(
            f"[reset] Not deleting the contents of {KUBELET_DIR}; unmount them (umount -R), then reset again"
        )
        ctx.outputs.manual(
            f"unmount directories below {real}", f"umount -R {' '.join(failed_paths(failed))}"
        )
        return False, changes
    return True, changes


def failed_paths(failed: list[str]) -> list[str]:
    return [f.split(": ", 1)[0] for f in failed]


# --- containers -------------------------------------------------------------------------------


def remove_pods(ctx: ResetContext) -> list[Change]:
    """Stop and remove every pod sandbox (and so its containers) through the CRI, as kubeadm's
    ``RemoveContainers``; the socket is taken under ``--rootfs``."""
    endpoint = str((ctx.cfg.reset or {}).get("criSocket") or "")
    if not endpoint:
        ctx.log("[reset] No CRI socket configured (--cri-socket): no containers to remove")
        return []
    manual = f"crictl --runtime-endpoint {endpoint} rmp --force --all"
    runtime = ctx.fx.cri(endpoint_under(ctx.fs, endpoint))
    try:
        pods = runtime.list_sandboxes()
        if not pods:
            return []
        ctx.log(f"[reset] Kubernetes-managed Pod sandboxes to stop and remove (and containers): {len(pods)}")
        changes = []
        for p in pods:
            try:
                changes.append(runtime.remove_sandbox(p))
            except CriError as e:
                ctx.log(f"[reset] WARNING: Failed to remove {p.label}: {e}")
                command = f"crictl --runtime-endpoint {endpoint} rmp --force {p.id}"
                ctx.outputs.manual(f"remove {p.label}", command)
        return changes
    except CriNotRunning as e:
        ctx.log(f"[reset] {e}: no containers to remove")
        return []
    except CriError as e:
        ctx.log(f"[reset] WARNING: Failed to remove containers: {e}")
        ctx.log(f"[reset] Please remove them manually: {manual}")
        ctx.outputs.manual("remove the Kubernetes containers", manual)
        return []
    finally:
        runtime.close()


# --- files ------------------------------------------------------------------------------------


def _etcd_data_dir(ctx: ResetContext) -> str | None:
    path = f"{ctx.manifests_dir.rstrip('/')}/{ETCD_MANIFEST}"
    text = ctx.fs.read_text(path)
    if text is None:
        return None
    try:
        return read_local_etcd(text, path).data_dir
    except Exception:  # noqa: BLE001 - a broken manifest must not stop the cleanup
        return None


def remove_tree(ctx: ResetContext, target: str, failures: list[str]) -> list[Change]:
    """Remove ``target``; a real directory (not a symlink) child by child first, so that a dry
    run lists every file it would delete."""
    changes: list[Change] = []
    if ctx.fs.is_dir(target, follow=False):
        changes += clean_dir(ctx, target, failures)
    try:
        changes.append(ctx.fs.remove(target))
    except OSError as e:
        failures.append(f"{target}: {e.strerror or e}")
    return changes


def clean_dir(ctx: ResetContext, host_dir: str, failures: list[str]) -> list[Change]:
    """Delete the contents of ``host_dir`` (not the directory itself), as kubeadm's CleanDir."""
    changes: list[Change] = []
    for name in ctx.fs.listdir(host_dir):
        changes += remove_tree(ctx, f"{host_dir.rstrip('/')}/{name}", failures)
    return changes


# Reset cleans inside these and below; a directory to clean that resolves to a parent of one of
# them (/, /etc, /var/lib...) or to a top-level directory is refused: a configured or manifest
# path such as --data-dir=/var must not wipe the node.
KUBEADM_DIRS = (KUBERNETES_DIR, KUBELET_DIR)


def refusal(ctx: ResetContext, host_dir: str) -> str | None:
    """Why ``host_dir`` must not be cleaned, or None."""
    where = ctx.fs.canonical(host_dir)
    shown = host_dir if where == host_dir.rstrip("/") else f"{host_dir} (resolves to {where})"
    if where.count("/") < 2:
        return f"{shown} is the root or a top-level directory"
    parent = next((d for d in KUBEADM_DIRS if d.startswith(where.rstrip("/") + "/")), None)
    if parent is not None:
        return f"{shown} contains {parent}"
    return None


def run_cleanup_node(ctx: ResetContext) -> list[Change]:
    changes: list[Change] = []
    changes += stop_the_kubelet(ctx)
    kubelet_ok, unmounted = unmount_kubelet_dir(ctx)
    changes += unmounted
    changes += remove_pods(ctx)

    cert_dir = reset_cert_dir(ctx)
    if cert_dir != CERTIFICATES_DIR:
        ctx.log(f'[reset] WARNING: Cleaning a non-default certificates directory: "{cert_dir}"')
    dirs = [ctx.manifests_dir]
    if kubelet_ok:
        dirs.append(KUBELET_DIR)
    dirs.append(cert_dir)
    extra = list(ctx.state.dirs_to_clean)
    if not extra:
        data_dir = _etcd_data_dir(ctx)
        extra = [data_dir] if data_dir else []
    dirs += [d for d in extra if d not in dirs]
    if ctx.options.cleanup_tmp_dir:  # the flag, else ResetConfiguration cleanupTmpDir (workflow)
        dirs.append(TMP_DIR)

    failures: list[str] = []
    for d in list(dirs):
        why = refusal(ctx, d)
        if why is not None:
            ctx.log(f"[reset] WARNING: Not cleaning {why}; reset only deletes what kubeadm creates")
            dirs.remove(d)
    ctx.log(f"[reset] Contents of directories to delete: [{' '.join(dirs)}]")
    for d in dirs:
        changes += clean_dir(ctx, d, failures)
    files = [f"{KUBERNETES_DIR}/{name}" for name in KUBECONFIG_FILES]
    files += [journal_path(w) for w in WORKFLOWS]  # the node's run journals go with its state
    ctx.log(f"[reset] Files to delete: [{' '.join(files)}]")
    for f in files:
        if ctx.fs.is_dir(f, follow=False):  # kubeadm writes files there, never a directory tree
            ctx.log(f"[reset] WARNING: Not deleting {f}: a directory, not a file kubeadm wrote")
            continue
        try:
            changes.append(ctx.fs.remove(f))
        except OSError as e:
            failures.append(f"{f}: {e.strerror or e}")
    for failure in failures:
        ctx.log(f"[reset] WARNING: Failed to delete {failure}")
    if failures:
        ctx.outputs.manual("delete what reset could not", "rm -rf " + " ".join(failed_paths(failures)))

    removed = [c for c in changes if c.changed]
    if not removed and not failures:
        ctx.log("[reset] Nothing to remove: this node has no files, mounts or containers left from kubeadm")
    print_leftovers(ctx)
    # File deletions reach the report through ctx.fs; return the others (processes, mounts).
    return [c for c in changes if c.kind not in ("file", "dir")]


def print_leftovers(ctx: ResetContext) -> None:
    """What reset does not clean, with the command that does (upstream prints reminders)."""
    cni = ctx.fs.listdir(CNI_DIR)
    if cni:
        real = ctx.fs.confined_path(CNI_DIR)
        cmd = f"rm -rf {real}/*"
        ctx.log(
            f"[reset] The reset process does not clean CNI configuration ({len(cni)} files in {CNI_DIR})."
        )
        ctx.log(f"[reset] To do so, remove them: {cmd}")
        ctx.outputs.manual(f"CNI configuration in {CNI_DIR}", cmd)
    ctx.log(
        "[reset] The reset process does not reset or clean up iptables rules, nftables rules or IPVS tables."
    )
    for what, cmd in MANUAL_STEPS:
        ctx.log(f"[reset]   {what}: {cmd}")
        ctx.outputs.manual(what, cmd)
    home = os.environ.get("HOME") or "/root"
    kubeconfig = f"{home.rstrip('/')}/.kube/config"
    if ctx.fs.exists(kubeconfig):
        cmd = f"rm -f {ctx.fs.confined_path(kubeconfig)}"
        ctx.log(
            f"[reset] The reset process does not clean your kubeconfig files: check {kubeconfig} "
            f"and remove it if it points to this cluster: {cmd}"
        )
        ctx.outputs.manual(f"kubeconfig {kubeconfig}", cmd)


def cleanup_node_phase() -> Phase[ResetContext]:
    return Phase(
        name="cleanup-node",
        help="Run cleanup node.\n\nStop the kubelet, unmount and delete what kubeadm wrote on this node "
        "(manifests, kubelet state, certificates, kubeconfig files, etcd data) and remove the Kubernetes "
        "containers. CNI configuration, iptables/nftables/IPVS rules and $HOME/.kube/config are left; "
        "reset prints how to clean them (docs/reset.md).",
        run=run_cleanup_node,
        flags=("cert-dir", "cri-socket", "cleanup-tmp-dir", "dry-run"),
    )
