"""Starting and stopping the kubelet service (``phases/kubelet/kubelet.go``: TryStartKubelet,
TryStopKubelet). Only through systemd when PID 1 is systemd; otherwise the command line to start the
kubelet with (what the kubeadm systemd drop-in ``10-kubeadm.conf`` would run) is logged."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable, Sequence

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBELET_DIR, KUBERNETES_DIR
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kubelet.flags import parse_flags_env

Runner = Callable[[Sequence[str]], "tuple[int, str]"]


def _run(argv: Sequence[str]) -> tuple[int, str]:
    try:
        p = subprocess.run(list(argv), capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        return 1, str(e)
    return p.returncode, (p.stderr or p.stdout).strip()


def is_systemd(fs: HostFS) -> bool:
    comm = (fs.read_text("/proc/1/comm") or "").strip()
    return comm == "systemd" or fs.is_dir("/run/systemd/system")


def pid1_name(fs: HostFS) -> str:
    return (fs.read_text("/proc/1/comm") or "unknown").strip()


def kubelet_command_line(fs: HostFS) -> list[str]:
    """The kubelet argv the kubeadm drop-in (10-kubeadm.conf) builds: bootstrap/kubeconfig/config flags
    plus the contents of kubeadm-flags.env."""
    env = fs.read_text(f"{KUBELET_DIR}/kubeadm-flags.env") or ""
    return [
        "kubelet",
        f"--bootstrap-kubeconfig={KUBERNETES_DIR}/bootstrap-kubelet.conf",
        f"--kubeconfig={KUBERNETES_DIR}/kubelet.conf",
        f"--config={KUBELET_DIR}/config.yaml",
        *parse_flags_env(env),
    ]


def service_exists(run: Runner) -> bool:
    rc, _ = run(["systemctl", "cat", "kubelet.service"])
    return rc == 0


def systemd_resolved_active(fs: HostFS, run: Runner = _run) -> bool:
    if fs.rootfs is not None or not is_systemd(fs) or shutil.which("systemctl") is None:
        return False
    rc, _ = run(["systemctl", "is-active", "--quiet", "systemd-resolved"])
    return rc == 0


def stop_kubelet(fs: HostFS, dry_run: bool, log: Callable[[str], None], run: Runner = _run) -> None:
    if dry_run or not is_systemd(fs) or shutil.which("systemctl") is None or not service_exists(run):
        return
    rc, out = run(["systemctl", "stop", "kubelet"])
    if rc != 0:
        log(f"[kubelet-start] WARNING: could not stop the kubelet: {out}")


def restart_kubelet(fs: HostFS, dry_run: bool, log: Callable[[str], None], run: Runner = _run) -> Change:
    if dry_run:
        log("[dryrun] Would restart the kubelet (systemctl restart kubelet)")
        return Change("note", "unchanged", "kubelet", "dry run: would restart the kubelet")
    if not is_systemd(fs):
        argv = " ".join(kubelet_command_line(fs))
        log(
            f"[kubelet-start] PID 1 is {pid1_name(fs)!r}, not systemd: not starting the kubelet. Start it with:"  # noqa: E501
        )
        log(f"[kubelet-start]   {argv}")
        return Change("note", "unchanged", "kubelet", f"start the kubelet yourself: {argv}")
    if shutil.which("systemctl") is None or not service_exists(run):
        log(
            "[kubelet-start] WARNING: Couldn't restart the kubelet: the kubelet service does not exist "
            "(install the kubelet package and its kubeadm drop-in)"
        )
        return Change("note", "unchanged", "kubelet", "kubelet service missing")
    log("[kubelet-start] Starting the kubelet")
    rc, out = run(["systemctl", "restart", "kubelet"])
    if rc != 0:
        log(f"[kubelet-start] WARNING: unable to start the kubelet service: {out}")
        log("[kubelet-start] Please ensure kubelet is reloaded and running manually.")
        return Change("process", "run", "systemctl restart kubelet", f"failed: {out}")
    return Change("process", "run", "systemctl restart kubelet", "kubelet restarted")
