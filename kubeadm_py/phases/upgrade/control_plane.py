"""``upgrade apply|node phase control-plane``: swap the static Pod manifests of this node one by one
with backup, health wait and automatic rollback (:mod:`kubeadm_py.upgrade.staticpods`), renewing
each component's certificates first (:mod:`kubeadm_py.upgrade.certs`)."""

from __future__ import annotations

import time
from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.constants import TMP_DIR
from kubeadm_py.workflow.phase import Phase

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


def upgrade_timeout(ctx: Any) -> float:
    """--upgrade-timeout, else UpgradeConfiguration timeouts.upgradeManifests (5m0s)."""
    from kubeadm_py.durations import duration_seconds

    raw = ctx.opts.get("upgrade_timeout")
    if raw is None:
        return float(ctx.cfg.timeout("upgradeManifests"))
    return duration_seconds(raw, "--upgrade-timeout")


def make_waiter(ctx: Any) -> Any:
    from kubeadm_py.upgrade.waiter import ClusterWaiter, DryRunWaiter

    if ctx.state.get("upgrade_waiter") is not None:  # tests and embedding programs
        return ctx.state["upgrade_waiter"]
    if ctx.dry_run:
        return DryRunWaiter(ctx.log)
    from kubeadm_py.kube.client import KubeClient, RetryPolicy

    path = ctx.fs.read_path(ctx.admin_kubeconfig)
    client = KubeClient.from_kubeconfig(
        str(path), display_path=ctx.admin_kubeconfig, retry=RetryPolicy(attempts=1)
    )
    return ClusterWaiter(client, ctx.cfg.node_name, ctx.log)


def run_control_plane(ctx: Any) -> list[Change]:
    from kubeadm_py.phases.upgrade.prepare import facts
    from kubeadm_py.upgrade import certs, manifests
    from kubeadm_py.upgrade.config import parse_bool
    from kubeadm_py.upgrade.staticpods import StaticPodUpgrade

    f = facts(ctx)
    if not f.control_plane:
        ctx.log("[upgrade/control-plane] Skipping phase. Not a control plane node.")
        return []
    renewal = parse_bool(f.settings.get("certificateRenewal", True), "certificate-renewal")
    etcd_upgrade = parse_bool(f.settings.get("etcdUpgrade", True), "etcd-upgrade")
    swaps, decision = manifests.swaps(ctx, etcd_upgrade)
    if not decision.upgrade and decision.reason:
        ctx.log(f"[upgrade/etcd] Not upgrading etcd: {decision.reason}")
    ts = timestamp()
    ctx.log(f'[upgrade/staticpods] Writing new Static Pod manifests to "{ctx.manifests_dir}"')
    if ctx.dry_run:
        for s in swaps:
            diff = manifests.unified_diff(s.old, s.new, s.path)
            ctx.log(
                f"[dryrun] {s.component}: "
                + ("no change" if not diff else f"manifest diff:\n{diff.rstrip()}")
            )
    from kubeadm_py.manifests.etcd import etcd_data_dir

    machine = StaticPodUpgrade(
        fs=ctx.fs,
        waiter=make_waiter(ctx),
        backup_dir=f"{TMP_DIR}/kubeadm-backup-manifests-{ts}",
        timeout=upgrade_timeout(ctx),
        log=ctx.log,
        etcd_data_dir=etcd_data_dir(ctx.cfg) if decision.upgrade else None,
        etcd_backup_dir=f"{TMP_DIR}/kubeadm-backup-etcd-{ts}" if decision.upgrade else None,
        before=lambda s: certs.apply_component(
            ctx.fs, ctx.cfg, s.component, renewal, ctx.kubeconfig_dir, ctx.log
        ),
    )
    result = machine.run(swaps)
    certs.apply_component(ctx.fs, ctx.cfg, "admin", renewal, ctx.kubeconfig_dir, ctx.log)
    from kubeadm_py.phases.shared.kit import outputs

    outputs(
        ctx,
        upgraded=list(result.upgraded),
        unchanged=list(result.skipped),
        backup_dir=result.backup_dir if result.upgraded else "",
    )
    return []  # files written through ctx.fs are collected by the runner


def upgrade_control_plane_phase() -> Phase:
    return Phase(
        "control-plane",
        "Upgrade the control plane (etcd when local, kube-apiserver, kube-controller-manager, "
        "kube-scheduler)",
        run=run_control_plane,
        flags=FLAGS,
    )
