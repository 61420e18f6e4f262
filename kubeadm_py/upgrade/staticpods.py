"""Swapping static Pod manifests with backup, health wait and automatic rollback
(upstream ``phases/upgrade/staticpods.go``: ``StaticPodControlPlane``, ``upgradeComponent``,
``rollbackOldManifests``, ``rollbackEtcdData``).

For each component in order (etcd first when it is local, then kube-apiserver,
kube-controller-manager, kube-scheduler):

1. skip it when the new manifest equals the current one;
2. copy the current manifest to ``<backup dir>/<component>.yaml``
   (``/etc/kubernetes/tmp/kubeadm-backup-manifests-<timestamp>/``);
3. write the new manifest in place (atomic rename);
4. wait, up to the upgrade timeout, for the kubelet to pick it up (the mirror Pod's
   ``kubernetes.io/config.hash`` annotation changes) and for the component's health endpoint (the
   manifest's liveness probe) to answer 200;
5. on failure, put back the backup of **every** manifest written so far (the failing one included),
   wait (bounded) for them to be healthy again, and fail with a message saying what happened.
   For etcd, when the previous etcd does not come back, the data directory backup
   (``/etc/kubernetes/tmp/kubeadm-backup-etcd-<timestamp>/etcd``) is copied back.

Waiting goes through a :class:`ComponentWaiter` (:class:`kubeadm_py.upgrade.waiter.ClusterWaiter`
over the run's waiter effector, whose dry-run twin only says what it would wait for); files go
through :class:`~kubeadm_py.hostfs.HostFS`, whose dry-run twin records the etcd data copy."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from kubeadm_py.changes import Change
from kubeadm_py.effectors.waiting import seconds_text
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import MANIFEST_MODE, HostFS

Log = Callable[[str], None]


class WaitError(Exception):
    """A component did not reach the wanted state in time."""


class ComponentWaiter(Protocol):
    def config_hash(self, component: str) -> str | None:
        """The ``kubernetes.io/config.hash`` of the component's mirror Pod now (None: unknown)."""
        ...

    def wait_for_new_pod(self, component: str, old_hash: str | None, timeout: float) -> None:
        """Wait until the kubelet runs a new instance (the hash differs from ``old_hash``)."""
        ...

    def wait_healthy(self, component: str, manifest: bytes, timeout: float) -> None:
        """Wait until the component's health endpoint (from ``manifest``) answers."""
        ...


@dataclass
class ManifestSwap:
    component: str
    path: str  # host path of the live manifest
    new: bytes
    old: bytes | None = None

    @property
    def unchanged(self) -> bool:
        return self.old == self.new


@dataclass
class SwapResult:
    upgraded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    backup_dir: str = ""


class UpgradeFailed(KubeadmError):
    """The upgrade of a component failed; earlier manifests were restored."""

    def __init__(self, message: str, *, hint: str | None = None, restored: Sequence[str] = ()) -> None:
        super().__init__(message, hint=hint)
        self.restored = list(restored)


@dataclass
class StaticPodUpgrade:
    """One run of the swap state machine."""

    fs: HostFS
    waiter: ComponentWaiter
    backup_dir: str  # kubeadm-backup-manifests-<ts>
    timeout: float
    log: Log
    etcd_data_dir: str | None = None  # set when etcd is upgraded: its data dir
    etcd_backup_dir: str | None = None  # kubeadm-backup-etcd-<ts>
    # Called for every component before its swap (also when its manifest is unchanged): certificate
    # renewal, as upstream's renewCertsByComponent.
    before: Callable[[ManifestSwap], list[Change]] | None = None
    clock: Callable[[], float] = time.monotonic
    moved: list[ManifestSwap] = field(default_factory=list)
    result: SwapResult = field(default_factory=SwapResult)

    def run(self, swaps: Sequence[ManifestSwap]) -> SwapResult:
        self.result.backup_dir = self.backup_dir
        # Record every mirror Pod hash before touching anything (upstream does the same).
        hashes = {s.component: self.waiter.config_hash(s.component) for s in swaps if not s.unchanged}
        for comp, h in hashes.items():
            if h is None:
                self.log(
                    f"[upgrade/staticpods] WARNING: no mirror Pod hash for {comp} before the upgrade "
                    "(is the kubelet reporting to the API server?); the first hash seen afterwards "
                    "counts as the new one"
                )
        for swap in swaps:
            if self.before is not None:
                try:
                    self.result.changes += self.before(swap)
                except KubeadmError as e:
                    if not self.moved:
                        raise
                    self._fail(swap, f"preparing it failed: {e}")
            if swap.unchanged:
                self.log(
                    f"[upgrade/staticpods] Current and new manifests of {swap.component} are equal, "
                    "skipping upgrade"
                )
                self.result.skipped.append(swap.component)
                continue
            self._swap(swap, hashes.get(swap.component))
        return self.result

    def _swap(self, swap: ManifestSwap, old_hash: str | None) -> None:
        comp = swap.component
        if comp == "etcd" and self.etcd_data_dir and self.etcd_backup_dir:
            target = f"{self.etcd_backup_dir}/etcd"
            self.log(f"[upgrade/etcd] Backing up the etcd data directory {self.etcd_data_dir} to {target}")
            self.fs.mkdir(self.etcd_backup_dir, 0o700)
            self.result.changes.append(self.fs.copy_tree(self.etcd_data_dir, target))
        self.fs.mkdir(self.backup_dir, 0o700)
        if swap.old is not None:
            backup = f"{self.backup_dir}/{comp}.yaml"
            self.log(f'[upgrade/staticpods] Moving the current manifest of {comp} to "{backup}"')
            self.result.changes.append(
                self.fs.write(backup, swap.old, MANIFEST_MODE, detail=f"backup of {swap.path}")
            )
        self.log(
            f'[upgrade/staticpods] Moved new manifest to "{swap.path}" and backed up old manifest to '
            f'"{self.backup_dir}/{comp}.yaml"'
        )
        self.result.changes.append(
            self.fs.write(swap.path, swap.new, MANIFEST_MODE, detail=f"new {comp} manifest")
        )
        self.moved.append(swap)
        start = self.clock()
        try:
            self.log(
                f"[upgrade/staticpods] Waiting for the kubelet to restart the component {comp} "
                f"(this can take up to {seconds_text(self.timeout)})"
            )
            self.waiter.wait_for_new_pod(comp, old_hash, self.timeout)
            left = max(1.0, self.timeout - (self.clock() - start))
            self.waiter.wait_healthy(comp, swap.new, left)
        except WaitError as e:
            self._fail(swap, str(e))
        self.log(f"[upgrade/staticpods] Component {comp!r} upgraded successfully!")
        self.result.upgraded.append(comp)

    def _fail(self, failed: ManifestSwap, reason: str) -> None:
        restored: list[str] = []
        for swap in reversed(self.moved):
            if swap.old is None:
                self.fs.remove(swap.path)
                restored.append(f"{swap.component} (removed: it had no previous manifest)")
            else:
                self.fs.write(swap.path, swap.old, MANIFEST_MODE, detail=f"rollback of {swap.component}")
                restored.append(swap.component)
            self.log(f"[upgrade/rollback] Restored the previous manifest of {swap.component} to {swap.path}")
        health = self._recover_health()
        etcd_note = ""
        if (
            failed.component == "etcd"
            and "etcd" in health.get("unhealthy", ())
            and self.etcd_backup_dir
            and self.etcd_data_dir
        ):
            self.log(
                "[upgrade/rollback] etcd is not healthy with its previous manifest: restoring its data "
                f"from {self.etcd_backup_dir}/etcd"
            )
            self.fs.copy_tree(f"{self.etcd_backup_dir}/etcd", self.etcd_data_dir)
            etcd_note = f"; etcd data restored from {self.etcd_backup_dir}/etcd"
        healthy, unhealthy = health.get("healthy", []), health.get("unhealthy", [])
        state = []
        if healthy:
            state.append(f"{', '.join(healthy)} healthy again with the previous manifest")
        if unhealthy:
            state.append(f"{', '.join(unhealthy)} NOT healthy after the rollback")
        raise UpgradeFailed(
            f"the upgrade of {failed.component} failed: {reason}; rolled back the manifests of "
            f"{', '.join(restored)} from {self.backup_dir}"
            + (f" ({'; '.join(state)})" if state else "")
            + etcd_note,
            hint=(
                f"see why {failed.component} did not start with the new manifest (the kubelet's log, "
                f"'crictl ps -a', 'crictl logs'); the backups stay in {self.backup_dir}"
            ),
            restored=restored,
        )

    def _recover_health(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {"healthy": [], "unhealthy": []}
        for swap in self.moved:
            if swap.old is None:
                continue
            try:
                self.waiter.wait_healthy(swap.component, swap.old, self.timeout)
                out["healthy"].append(swap.component)
            except WaitError:
                out["unhealthy"].append(swap.component)
        return out
