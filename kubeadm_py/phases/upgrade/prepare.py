"""Preparing a run context for ``upgrade apply``, ``upgrade node``, ``upgrade plan`` and ``upgrade diff``:
the cluster's configuration at the target version (see :mod:`kubeadm_py.upgrade.config`), the
component configs the cluster stores, and the facts the policy needs (cluster and kubelet versions)."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.phases.context import RunContext
from kubeadm_py.semver import Version
from kubeadm_py.upgrade import config as ucfg
from kubeadm_py.upgrade.policy import VersionInfo
from kubeadm_py.versions import supported_minors

STATE_KEY = "upgrade"


@dataclass
class UpgradeFacts:
    section: str  # apply, node, plan, diff
    stored_cluster: dict[str, Any]  # ClusterConfiguration as stored (parsed)
    stored_yaml: str
    file_cluster: dict[str, Any] | None
    local: ucfg.NodeLocal
    settings: dict[str, Any]  # UpgradeConfiguration.<section> with flags on top
    cluster_version: str  # the API server's gitVersion (or the stored kubernetesVersion)
    target: str = ""
    kubelets: dict[str, str] = field(default_factory=dict)
    control_plane: bool = True

    def version_info(self) -> VersionInfo:
        return VersionInfo(
            cluster=Version.parse_semantic(self.cluster_version),
            target=Version.parse_semantic(self.target),
            target_text=self.target,
            supported_minors=tuple(supported_minors()),
            kubelets=dict(self.kubelets),
            allow_experimental=bool(self.settings.get("allowExperimentalUpgrades")),
            allow_rc=bool(self.settings.get("allowRCUpgrades")),
        )


def facts(ctx: RunContext) -> UpgradeFacts:
    f = ctx.state.get(STATE_KEY)
    if not isinstance(f, UpgradeFacts):
        raise KubeadmError("internal: the upgrade context was not prepared")
    return f


def api_server_version(client: Any) -> str | None:
    try:
        answer = client.request("GET", "/version", what="the server version")
    except KubeadmError:
        return None
    v = answer.get("gitVersion") if isinstance(answer, dict) else None
    return str(v) if v else None


def kubelet_versions(client: Any) -> dict[str, str]:
    try:
        nodes = client.list("Node")
    except KubeadmError:
        return {}
    out = {}
    for n in nodes:
        v = ((n.get("status") or {}).get("nodeInfo") or {}).get("kubeletVersion")
        if v:
            out[str((n.get("metadata") or {}).get("name", "?"))] = str(v)
    return out


def gather(ctx: RunContext, section: str) -> UpgradeFacts:
    """Read the cluster and the node; nothing is written."""
    client = ctx.kube()
    stored_yaml = ucfg.stored_cluster_configuration(client)
    try:
        stored = yaml.safe_load(stored_yaml) or {}
    except yaml.YAMLError as e:
        raise KubeadmError(f"cannot parse the stored ClusterConfiguration: {e}") from None
    file_cluster = ucfg.config_file_cluster(ctx.opts.get("config"))
    local = ucfg.node_local(ctx.fs, ctx.manifests_dir)
    if ctx.opts.get("node_name"):
        local.node_name = str(ctx.opts["node_name"])
    settings = ucfg.upgrade_settings(
        ctx.cfg, "apply" if section in ("apply", "plan", "diff") else "node", ctx.opts
    )
    cluster_version = api_server_version(client) or str(stored.get("kubernetesVersion") or "")
    if not cluster_version:
        raise KubeadmError("cannot tell the cluster version: the API server did not answer /version")
    return UpgradeFacts(
        section=section,
        stored_cluster=stored,
        stored_yaml=stored_yaml,
        file_cluster=file_cluster,
        local=local,
        settings=settings,
        cluster_version=cluster_version,
        kubelets=kubelet_versions(client),
        control_plane=ucfg.is_control_plane(ctx.fs, ctx.manifests_dir),
    )


def resolve_target(ctx: RunContext, f: UpgradeFacts) -> str:
    if f.section == "node":
        stored = str(f.stored_cluster.get("kubernetesVersion") or "")
        if not stored:
            raise KubeadmError("the stored ClusterConfiguration has no kubernetesVersion")
        return stored
    v = ucfg.target_version(ctx.opts.get("version"), ctx.cfg.upgrade, f.section, f.file_cluster)
    if not v:
        if f.section in ("plan", "diff"):
            return str(f.stored_cluster.get("kubernetesVersion") or f.cluster_version)
        raise KubeadmError(
            "missing the version to upgrade to",
            hint="give it as an argument ('kubeadm-py upgrade apply v1.31.14') or in "
            "UpgradeConfiguration.apply.kubernetesVersion; use the current version for a "
            "configuration change",
        )
    Version.parse_semantic(v)  # a clear error for a malformed argument
    return v


def configure(ctx: RunContext, f: UpgradeFacts, target: str) -> None:
    """Replace ``ctx.cfg`` by the cluster configuration at ``target`` (keeping the UpgradeConfiguration)."""
    from kubeadm_py.api import config_overrides

    overrides = {k: v for k, v in config_overrides(ctx.opts).items() if k != "cluster.kubernetesVersion"}
    cfg = ucfg.build_upgrade_config(
        f.stored_yaml,
        f.local,
        version=target,
        upgrade_doc=ctx.cfg.upgrade,
        file_cluster=f.file_cluster,
        overrides=overrides,
    )
    cfg.kubelet, cfg.kubeproxy = _component_configs(
        ctx, str(f.stored_cluster.get("kubernetesVersion") or target)
    )
    cfg.warnings = list(ctx.cfg.warnings) + cfg.warnings
    ctx.cfg = cfg
    f.target = target


def _component_configs(
    ctx: RunContext, stored_version: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The KubeletConfiguration and KubeProxyConfiguration the cluster stores, when the user changed
    them (the ConfigMap's hash annotation is absent or does not match): kubeadm-generated ones are
    regenerated with the new version's defaults, user ones are kept (upstream ``componentconfigs``)."""
    from kubeadm_py.cluster.uploadconfig import HASH_ANNOTATION, config_hash
    from kubeadm_py.cluster.versioned import kubelet_config_name

    client = ctx.kube()
    out: list[dict[str, Any] | None] = []
    for name, key in ((kubelet_config_name(stored_version), "kubelet"), ("kube-proxy", "config.conf")):
        try:
            cm = client.get("ConfigMap", name, KUBE_SYSTEM)
        except KubeadmError:
            cm = None
        text = ((cm or {}).get("data") or {}).get(key)
        if not text:
            out.append(None)
            continue
        ann = ((cm or {}).get("metadata") or {}).get("annotations") or {}
        if ann.get(HASH_ANNOTATION) and ann.get(HASH_ANNOTATION) == config_hash(cm or {}):
            out.append(None)
            continue
        try:
            doc = yaml.safe_load(text)
        except yaml.YAMLError:
            doc = None
        out.append(copy.deepcopy(doc) if isinstance(doc, dict) else None)
    return out[0], out[1]


def prepare(ctx: RunContext, section: str) -> None:
    """The workflows' ``prepare`` hook: gather facts, resolve the target, configure ``ctx.cfg``."""
    f = gather(ctx, section)
    ctx.state[STATE_KEY] = f
    configure(ctx, f, resolve_target(ctx, f))
