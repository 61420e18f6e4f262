"""The kubelet's systemd unit and kubeadm's drop-in, for nodes that got kubeadm-py from PyPI
rather than the kubelet and kubeadm packages (``kubeadm-py kubelet install-unit``).

The packages ship both files; their fields are tabled here from kubernetes/release at commit
cd53840181a8a4ff6498a946e73e5a48664f7531 (the last change of both files):
``cmd/krel/templates/latest/kubelet/kubelet.service`` (the kubelet package installs it as
``%{_unitdir}/kubelet.service``) and ``cmd/krel/templates/latest/kubeadm/10-kubeadm.conf`` (the
kubeadm package installs it as ``%{_unitdir}/kubelet.service.d/10-kubeadm.conf``, with
``/etc/sysconfig/kubelet`` changed to ``/etc/default/kubelet`` for Debian packages). Two values
depend on the node: the kubelet binary (the packages put it in ``/usr/bin``) and that extra
environment file. The files are written under ``/etc/systemd/system`` (the administrator's units,
never a package's), through the run's effectors, so ``--rootfs`` and ``--dry-run`` work; a unit or
drop-in already on the node is left as it is, and ``reset`` leaves them too."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kubeadm_py.changes import Change
from kubeadm_py.constants import (
    KUBELET_BOOTSTRAP_KUBECONFIG,
    KUBELET_DIR,
    KUBELET_KUBECONFIG,
    KUBERNETES_DIR,
    SYSTEMD_UNIT_DIRS,
)
from kubeadm_py.effectors.commands import Commands
from kubeadm_py.hostfs import HostFS

Field = tuple[str, str]
Section = tuple[str, tuple[Field, ...]]

SOURCE = "kubernetes/release@cd53840181a8a4ff6498a946e73e5a48664f7531"
UNIT = "kubelet.service"
DROPIN = f"{UNIT}.d/10-kubeadm.conf"
ADMIN_UNIT_DIR = "/etc/systemd/system"
KUBELET_BINARIES = ("/usr/bin/kubelet", "/usr/local/bin/kubelet")  # the packages' path first
# The drop-in's EnvironmentFile for KUBELET_EXTRA_ARGS: Debian's path (debbuild), else RPM's.
EXTRA_ENV = {"debian": "/etc/default/kubelet", "rpm": "/etc/sysconfig/kubelet"}

# The kubelet flags of the drop-in; kubelet.service.kubelet_command_line starts the kubelet with
# the same ones where systemd is not there to read the drop-in.
KUBECONFIG_ARGS = (
    f"--bootstrap-kubeconfig={KUBERNETES_DIR}/{KUBELET_BOOTSTRAP_KUBECONFIG}",
    f"--kubeconfig={KUBERNETES_DIR}/{KUBELET_KUBECONFIG}",
)
CONFIG_ARGS = (f"--config={KUBELET_DIR}/config.yaml",)
FLAGS_ENV = f"{KUBELET_DIR}/kubeadm-flags.env"


def service_sections(kubelet: str) -> tuple[Section, ...]:
    """kubelet.service (kubelet package)."""
    return (
        (
            "Unit",
            (
                ("Description", "kubelet: The Kubernetes Node Agent"),
                ("Documentation", "https://kubernetes.io/docs/"),
                ("Wants", "network-online.target"),
                ("After", "network-online.target"),
            ),
        ),
        (
            "Service",
            (
                ("ExecStart", kubelet),
                ("Restart", "always"),
                ("StartLimitInterval", "0"),
                ("RestartSec", "10"),
            ),
        ),
        ("Install", (("WantedBy", "multi-user.target"),)),
    )


def dropin_sections(kubelet: str, extra_env: str) -> tuple[Section, ...]:
    """10-kubeadm.conf (kubeadm package): the kubelet started with kubeadm's flags and files."""
    return (
        (
            "Service",
            (
                ("Environment", f'"KUBELET_KUBECONFIG_ARGS={" ".join(KUBECONFIG_ARGS)}"'),
                ("Environment", f'"KUBELET_CONFIG_ARGS={" ".join(CONFIG_ARGS)}"'),
                ("EnvironmentFile", f"-{FLAGS_ENV}"),
                ("EnvironmentFile", f"-{extra_env}"),
                ("ExecStart", ""),  # resets the unit's ExecStart
                (
                    "ExecStart",
                    f"{kubelet} $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS "
                    "$KUBELET_EXTRA_ARGS",
                ),
            ),
        ),
    )


def render(sections: Sequence[Section], origin: str) -> str:
    lines = [f"# Written by kubeadm-py ({origin}), as the package's file from {SOURCE}."]
    for i, (name, fields) in enumerate(sections):
        lines += ([""] if i else []) + [f"[{name}]"] + [f"{k}={v}" for k, v in fields]
    return "\n".join(lines) + "\n"


def parse(text: str) -> list[tuple[str, str, str]]:
    """(section, key, value) of a unit file, in order: comments and blank lines dropped,
    repeated keys kept (systemd's ``ExecStart=`` resets are fields too)."""
    out: list[tuple[str, str, str]] = []
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        key, _, value = line.partition("=")
        out.append((section, key.strip(), value.strip()))
    return out


@dataclass(frozen=True)
class Found:
    unit: str | None  # the host path of kubelet.service, None when missing
    dropin: str | None  # the host path of 10-kubeadm.conf, None when missing

    @property
    def complete(self) -> bool:
        return self.unit is not None and self.dropin is not None

    def missing(self) -> list[str]:
        return [n for n, p in ((UNIT, self.unit), (DROPIN, self.dropin)) if p is None]


def find(exists: Callable[[str], bool]) -> Found:
    """Where systemd would load the kubelet unit and kubeadm's drop-in from (first match)."""
    unit = next((f"{d}/{UNIT}" for d in SYSTEMD_UNIT_DIRS if exists(f"{d}/{UNIT}")), None)
    dropin = next((f"{d}/{DROPIN}" for d in SYSTEMD_UNIT_DIRS if exists(f"{d}/{DROPIN}")), None)
    return Found(unit, dropin)


def kubelet_binary(fs: HostFS) -> str:
    """The kubelet on the node (the packages' /usr/bin first), else the packages' path."""
    return next((p for p in KUBELET_BINARIES if fs.exists(p)), KUBELET_BINARIES[0])


def extra_env_file(fs: HostFS) -> str:
    return EXTRA_ENV["debian" if fs.exists("/etc/debian_version") else "rpm"]


def install(
    fs: HostFS,
    commands: Commands,
    manager: str,
    log: Callable[[str], None],
    *,
    kubelet: str | None = None,
) -> list[Change]:
    """Write kubelet.service and 10-kubeadm.conf where the node has none (a file a package
    installed elsewhere is left), then ``systemctl daemon-reload`` when that changed something and
    systemd drives the node (``manager``: the services effector's answer). Returns the changes;
    ``log`` gets why the reload did not run or failed."""
    binary = kubelet or kubelet_binary(fs)
    found = find(fs.exists)
    files = (
        (found.unit, f"{ADMIN_UNIT_DIR}/{UNIT}", service_sections(binary)),
        (found.dropin, f"{ADMIN_UNIT_DIR}/{DROPIN}", dropin_sections(binary, extra_env_file(fs))),
    )
    changes: list[Change] = []
    for present, path, sections in files:
        if present is not None and present != path:
            changes.append(Change("file", "unchanged", present, "installed by a package: left as it is"))
            continue
        changes.append(fs.write(path, render(sections, "kubeadm-py kubelet install-unit").encode(), 0o644))
    if not any(c.changed for c in changes):
        return changes
    if manager != "systemd":
        why = "the node is under --rootfs" if manager == "outside --rootfs" else f"PID 1 is {manager!r}"
        log(f"[kubelet] not running 'systemctl daemon-reload': {why}")
        return changes
    result = commands.run(["systemctl", "daemon-reload"], timeout=60)
    if result.rc != 0:
        log(f"[kubelet] WARNING: systemctl daemon-reload failed: {result.output}")
    detail = f"failed: {result.output}" if result.rc else ("reloaded" if result.ran else "would reload")
    changes.append(Change("process", "run", "systemctl daemon-reload", detail))
    return changes
