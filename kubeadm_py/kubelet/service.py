"""Starting and stopping the kubelet service (``phases/kubelet/kubelet.go``: TryStartKubelet,
TryStopKubelet) through the service manager effector (:class:`~kubeadm_py.effectors.services.Services`,
whose dry-run twin only says what it would do). Only systemd is driven, and only when it is PID 1 of
the node; otherwise the command line to start the kubelet with (what the kubeadm systemd drop-in
``10-kubeadm.conf`` would run) is logged."""

from __future__ import annotations

from collections.abc import Callable

from kubeadm_py.changes import Change
from kubeadm_py.effectors.services import Services
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kubelet import unit
from kubeadm_py.kubelet.flags import parse_flags_env

KUBELET = "kubelet"
SYSTEMD = "systemd"
Log = Callable[[str], None]


def kubelet_command_line(fs: HostFS) -> list[str]:
    """The kubelet argv the kubeadm drop-in (10-kubeadm.conf) builds: bootstrap/kubeconfig/config flags
    plus the contents of kubeadm-flags.env."""
    env = fs.read_text(unit.FLAGS_ENV) or ""
    return ["kubelet", *unit.KUBECONFIG_ARGS, *unit.CONFIG_ARGS, *parse_flags_env(env)]


def systemd_resolved_active(services: Services) -> bool:
    """systemd-resolved runs on the node (the kubelet then reads the upstream resolv.conf)."""
    return services.manager() == SYSTEMD and services.is_active("systemd-resolved")


def failed(change: Change) -> str | None:
    """The error of a failed restart or stop (None: it worked or was only planned)."""
    return change.detail[len("failed:") :].strip() if change.detail.startswith("failed:") else None


def stop_kubelet(services: Services, log: Log, prefix: str = "[kubelet-start]") -> Change | None:
    """TryStopKubelet: stop the kubelet service when systemd drives it and the kubelet runs.
    None when there was nothing to stop (``services.manager()`` is not systemd, or the kubelet is
    not active); else the stop's Change, whose detail starts with ``failed:`` when it failed (then
    a warning is logged with ``prefix``). Used by kubelet-start (init, join) and reset."""
    if services.manager() != SYSTEMD or not services.is_active(KUBELET):
        return None
    change = services.stop(KUBELET)
    error = failed(change)
    if error is not None:
        log(f"{prefix} WARNING: could not stop the kubelet: {error}")
    return change


def _not_driven(manager: str) -> str:
    if manager == "outside --rootfs":
        return "the node is under --rootfs, not driven by this machine's systemd"
    return f"PID 1 is {manager!r}, not systemd"


def restart_kubelet(services: Services, fs: HostFS, log: Log) -> Change:
    """TryStartKubelet: ``systemctl restart kubelet`` when systemd drives the node; otherwise a note
    with the command line to start the kubelet with."""
    manager = services.manager()
    if not manager.startswith(SYSTEMD):
        argv = " ".join(kubelet_command_line(fs))
        log(f"[kubelet-start] {_not_driven(manager)}: not starting the kubelet. Start it with:")
        log(f"[kubelet-start]   {argv}")
        return Change("note", "unchanged", KUBELET, f"start the kubelet yourself: {argv}")
    if manager != SYSTEMD or not services.exists(KUBELET):
        log(
            "[kubelet-start] WARNING: Couldn't restart the kubelet: the kubelet service does not exist "
            "(install the kubelet and kubeadm packages, or write the unit and kubeadm's drop-in with "
            "'kubeadm-py kubelet install-unit')"
        )
        return Change("note", "unchanged", KUBELET, "kubelet service missing")
    if unit.find(fs.exists).dropin is None:
        log(
            f"[kubelet-start] WARNING: the kubelet service has no kubeadm drop-in ({unit.DROPIN}): the "
            "kubelet starts without kubeadm's flags; write it with 'kubeadm-py kubelet install-unit'"
        )
    log("[kubelet-start] Starting the kubelet")
    change = services.restart(KUBELET)
    error = failed(change)
    if error is not None:
        log(f"[kubelet-start] WARNING: unable to start the kubelet service: {error}")
        log("[kubelet-start] Please ensure kubelet is reloaded and running manually.")
    return change
