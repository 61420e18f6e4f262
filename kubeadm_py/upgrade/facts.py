"""What an upgrade knows before it changes anything (``upgrade apply``, ``node``, ``plan``, ``diff``):
the cluster's stored configuration, this node's local settings, the cluster and kubelet versions,
the target version, and the configuration at that target (see :mod:`kubeadm_py.upgrade.config`),
with the component configs the cluster stores. Nothing here writes."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import yaml

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import KUBE_SYSTEM, MANIFESTS_DIR
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kube.client import KubeClient
from kubeadm_py.options import config_overrides
from kubeadm_py.run_options import RunOptions
from kubeadm_py.semver import Version
from kubeadm_py.upgrade import config as ucfg
from kubeadm_py.upgrade.policy import VersionInfo
from kubeadm_py.versions import supported_minors


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

    @property
    def force(self) -> bool:
        return bool(self.settings.get("forceUpgrade"))

    @property
    def stored_version(self) -> str:
        return str(self.stored_cluster.get("kubernetesVersion") or "")


def api_server_version(client: KubeClient) -> str | None:
    try:
        answer = client.request("GET", "/version", what="the server version")
    except KubeadmError:
        return None
    v = answer.get("gitVersion") if isinstance(answer, dict) else None
    return str(v) if v else None


def kubelet_versions(client: KubeClient) -> dict[str, str]:
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


def gather(
    client: KubeClient,
    fs: HostFS,
    cfg: KubeadmConfig,
    options: RunOptions,
    section: str,
    manifests_dir: str = MANIFESTS_DIR,
) -> UpgradeFacts:
    """Read the cluster and the node; nothing is written. ``cfg`` is the configuration loaded from
    ``--config`` (its UpgradeConfiguration)."""
    stored_yaml = ucfg.stored_cluster_configuration(client)
    try:
        stored = yaml.safe_load(stored_yaml) or {}
    except yaml.YAMLError as e:
        raise KubeadmError(f"cannot parse the stored ClusterConfiguration: {e}") from None
    file_cluster = ucfg.config_file_cluster(options.config)
    local = ucfg.node_local(fs, manifests_dir)
    if options.node_name:
        local.node_name = options.node_name
    settings = ucfg.upgrade_settings(cfg, "node" if section == "node" else "apply", options)
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
        control_plane=ucfg.is_control_plane(fs, manifests_dir),
    )


def resolve_target(f: UpgradeFacts, cfg: KubeadmConfig, argument: str | None) -> str:
    """The version to upgrade to: the stored one for ``node``; else ``argument`` (VERSION), the
    UpgradeConfiguration or the ``--config`` ClusterConfiguration; ``plan`` and ``diff`` default to
    the stored version."""
    if f.section == "node":
        if not f.stored_version:
            raise KubeadmError("the stored ClusterConfiguration has no kubernetesVersion")
        return f.stored_version
    v = ucfg.target_version(argument, cfg.upgrade, f.section, f.file_cluster)
    if not v:
        if f.section in ("plan", "diff"):
            return f.stored_version or f.cluster_version
        raise KubeadmError(
            "missing the version to upgrade to",
            hint="give it as an argument ('kubeadm-py upgrade apply v1.31.14') or in "
            "UpgradeConfiguration.apply.kubernetesVersion; use the current version for a "
            "configuration change",
        )
    Version.parse_semantic(v)  # a clear error for a malformed argument
    return v


def configure(
    client: KubeClient, cfg: KubeadmConfig, options: RunOptions, f: UpgradeFacts, target: str
) -> KubeadmConfig:
    """The cluster configuration at ``target`` (keeping ``cfg``'s UpgradeConfiguration and warnings);
    records ``target`` in ``f``."""
    overrides = {k: v for k, v in config_overrides(options).items() if k != "cluster.kubernetesVersion"}
    new = ucfg.build_upgrade_config(
        f.stored_yaml,
        f.local,
        version=target,
        upgrade_doc=cfg.upgrade,
        file_cluster=f.file_cluster,
        overrides=overrides,
    )
    new.kubelet, new.kubeproxy = component_configs(client, f.stored_version or target)
    new.warnings = list(cfg.warnings) + new.warnings
    f.target = target
    return new


def component_configs(
    client: KubeClient, stored_version: str
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    """The KubeletConfiguration and KubeProxyConfiguration the cluster stores, when the user changed
    them (the ConfigMap's hash annotation is absent or does not match): kubeadm-generated ones are
    regenerated with the new version's defaults, user ones are kept (upstream ``componentconfigs``)."""
    from kubeadm_py.cluster.uploadconfig import HASH_ANNOTATION, config_hash
    from kubeadm_py.versioned import kubelet_config_name

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
