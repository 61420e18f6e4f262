"""``upgrade apply|node phase control-plane``: swap the static Pod manifests of this node one by one
with backup, health wait and automatic rollback (:mod:`kubeadm_py.upgrade.staticpods`), renewing
each component's certificates first (:mod:`kubeadm_py.upgrade.certs`)."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from kubeadm_py.constants import TMP_DIR
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from kubeadm_py.changes import Change
    from kubeadm_py.phases.context import AnyContext
    from kubeadm_py.phases.upgrade.state import UpgradeContext
    from kubeadm_py.upgrade.waiter import ClusterWaiter

FLAGS = (
    "config",
    "kubeconfig",
    "dry-run",
    "certificate-renewal",
    "etcd-upgrade",
    "patches",
    "upgrade-timeout",
)


def timestamp() -> str:
    return time.strftime("%Y-%m-%d-%H-%M-%S")


def upgrade_timeout(ctx: UpgradeContext) -> float:
    """--upgrade-timeout, else UpgradeConfiguration timeouts.upgradeManifests (5m0s)."""
    from kubeadm_py.durations import duration_seconds

    raw = ctx.options.upgrade_timeout
    if raw is None:
        return float(ctx.cfg.timeout("upgradeManifests"))
    return duration_seconds(raw, "--upgrade-timeout")


def make_waiter(ctx: AnyContext, node_name: str) -> ClusterWaiter:
    """Mirror Pods of ``node_name`` through a client that fails fast (the API server itself
    restarts), polled by the run's waiter, with each component's containers and the kubelet
    watched through the CRI (:mod:`kubeadm_py.effectors.watch`)."""
    from kubeadm_py.kube.client import RetryPolicy
    from kubeadm_py.phases.shared.kit import component_watch
    from kubeadm_py.upgrade.waiter import ClusterWaiter

    client = ctx.fx.api.from_kubeconfig(ctx.admin_kubeconfig, retry=RetryPolicy(attempts=1))
    return ClusterWaiter(
        client,
        node_name,
        ctx.fx.waiter,
        ctx.log,
        watch=lambda component, since: component_watch(ctx, [component], since),
    )


def save_etcd_snapshot(ctx: UpgradeContext, dest: str) -> str | None:
    """A snapshot of etcd, over its API, before its manifest is swapped (restore it with
    ``kubeadm-py etcd snapshot restore``); its host path. An etcd that cannot be read is a
    warning, not a stop: upstream takes no snapshot, and the data directory copy still follows."""
    from kubeadm_py.errors import KubeadmError
    from kubeadm_py.manifests.etcd import read_local_etcd

    path = f"{ctx.manifests_dir.rstrip('/')}/etcd.yaml"
    try:
        local = read_local_etcd(ctx.fs.read_text(path) or "", path)
        facts = ctx.fx.etcd(local.client_urls, ctx.cert_dir).save_snapshot(ctx.fs.real_path(dest))
    except KubeadmError as e:
        ctx.log(f"[upgrade/etcd] WARNING: no etcd snapshot was saved: {e}")
        return None
    if facts is not None:
        ctx.log(f"[upgrade/etcd] Saved an etcd snapshot to {dest} ({facts.size} bytes)")
    return dest


def run_control_plane(ctx: UpgradeContext) -> list[Change]:
    from kubeadm_py.manifests.etcd import etcd_data_dir
    from kubeadm_py.phases.shared.kit import run_patches
    from kubeadm_py.selfhosting.status import self_hosted_components
    from kubeadm_py.upgrade import certs
    from kubeadm_py.upgrade.config import parse_bool
    from kubeadm_py.upgrade.manifests import NodeManifests, unified_diff
    from kubeadm_py.upgrade.staticpods import StaticPodUpgrade

    f = ctx.state.facts
    if not f.control_plane:
        ctx.log("[upgrade/control-plane] Skipping phase. Not a control plane node.")
        return []
    renewal = parse_bool(f.settings.get("certificateRenewal", True), "certificate-renewal")
    etcd_upgrade = parse_bool(f.settings.get("etcdUpgrade", True), "etcd-upgrade")
    patches = run_patches(ctx)
    node = NodeManifests(ctx.cfg, ctx.fs, ctx.manifests_dir, patches, ctx.log)
    hosted = self_hosted_components(ctx.fs, ctx.manifests_dir)
    swaps, decision = node.swaps(etcd_upgrade, hosted)
    if hosted:
        ctx.log(
            f"[upgrade/control-plane] {', '.join(hosted)} run as DaemonSets: the self-hosted phase of "
            "'upgrade apply' updates them through the API; their certificates are renewed here"
        )
    if not decision.upgrade and decision.reason:
        ctx.log(f"[upgrade/etcd] Not upgrading etcd: {decision.reason}")
    ts = timestamp()
    if any(s.component == "etcd" and s.new != s.old for s in swaps):  # etcd will restart
        ctx.outputs.etcd_snapshot = save_etcd_snapshot(ctx, f"{TMP_DIR}/kubeadm-etcd-snapshot-{ts}.db")
    ctx.log(f'[upgrade/staticpods] Writing new Static Pod manifests to "{ctx.manifests_dir}"')
    for s in swaps:
        diff = unified_diff(s.old, s.new, s.path)
        if diff:
            ctx.log(f"[upgrade/staticpods] {s.component}: manifest diff:\n{diff.rstrip()}")
    waiter = make_waiter(ctx, ctx.cfg.node_name)
    machine = StaticPodUpgrade(
        fs=ctx.fs,
        waiter=waiter,
        backup_dir=f"{TMP_DIR}/kubeadm-backup-manifests-{ts}",
        timeout=upgrade_timeout(ctx),
        log=ctx.log,
        etcd_data_dir=etcd_data_dir(ctx.cfg) if decision.upgrade else None,
        etcd_backup_dir=f"{TMP_DIR}/kubeadm-backup-etcd-{ts}" if decision.upgrade else None,
        before=lambda s: certs.apply_component(
            ctx.fs, ctx.cfg, s.component, renewal, ctx.kubeconfig_dir, ctx.log
        ),
        clock=ctx.fx.waiter.clock.monotonic,
    )
    try:
        result = machine.run(swaps)
    finally:
        if waiter.failures:  # why a component's wait ended early: -o json and the run journal
            ctx.outputs.failures = [r.to_json() for r in waiter.failures]
    for component in (*hosted, "admin"):  # a DaemonSet Pod reads its certificates from the host
        certs.apply_component(ctx.fs, ctx.cfg, component, renewal, ctx.kubeconfig_dir, ctx.log)
    ctx.outputs.upgraded = list(result.upgraded)
    ctx.outputs.unchanged = list(result.skipped)
    ctx.outputs.backup_dir = result.backup_dir if result.upgraded else ""
    return []  # files written through ctx.fs are collected by the runner


def upgrade_control_plane_phase() -> Phase[UpgradeContext]:
    return Phase(
        "control-plane",
        "Upgrade the control plane (etcd when local, kube-apiserver, kube-controller-manager, "
        "kube-scheduler)",
        run=run_control_plane,
        flags=FLAGS,
    )
