"""``upgrade plan [VERSION]`` and ``upgrade diff [VERSION]``: what an upgrade would change, computed
with the same code ``upgrade apply`` runs, without writing anything.

Available versions come from the version table (:mod:`kubeadm_py.versions`): the table's patch of
the cluster's minor when it is newer, and the table's patch of the next minor; ``VERSION`` (or
``--kubernetes-version``) names one explicitly. There is no network lookup."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import CONTROL_PLANE_COMPONENTS, KUBE_SYSTEM, MANIFESTS_DIR
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.kube.client import KubeClient
from kubeadm_py.patches import PatchSet, load_patches_for, patches_directory
from kubeadm_py.run_options import RunOptions
from kubeadm_py.selfhosting.status import self_hosted_components
from kubeadm_py.semver import Version
from kubeadm_py.upgrade import certs, manifests
from kubeadm_py.upgrade.addons import ADDONS
from kubeadm_py.upgrade.facts import UpgradeFacts, configure, gather, resolve_target
from kubeadm_py.upgrade.policy import enforce, evaluate, policy_table
from kubeadm_py.upgrade.staticpods import ManifestSwap
from kubeadm_py.versions import RELEASES, image_tags

Log = Callable[[str], None]


def _no_log(msg: str) -> None:
    return None


def candidates(cluster_version: str) -> list[str]:
    """Versions from the table worth offering: a newer patch of this minor, the next minor."""
    cur = Version.parse_semantic(cluster_version)
    out = []
    for rel in RELEASES:
        v = Version.parse_semantic(rel.default_patch)
        newer_patch = v.minor == cur.minor and v > cur
        if v.major == cur.major and (newer_patch or v.minor == cur.minor + 1):
            out.append(rel.default_patch)
    return out


def _image_version(image: str) -> str:
    return manifests.tag_of(image) or "-"


def _live_image(client: KubeClient, kind: str, name: str) -> str:
    try:
        obj = client.get(kind, name, KUBE_SYSTEM)
    except KubeadmError:
        return ""
    containers = (((obj or {}).get("spec") or {}).get("template") or {}).get("spec", {}).get(
        "containers"
    ) or []
    return str(containers[0].get("image", "")) if containers else ""


def _live_template(client: KubeClient, component: str, rendered: bytes) -> tuple[bytes | None, bool]:
    """A self-hosted component's live DaemonSet Pod template as a Pod manifest (its image and
    flags, which the plan compares with the rendered static Pod), and whether ``upgrade apply``
    would write the DaemonSet (:mod:`kubeadm_py.selfhosting.update`)."""
    from kubeadm_py.manifests.pod import to_yaml
    from kubeadm_py.selfhosting import update
    from kubeadm_py.selfhosting.contract import ds_name

    try:
        ds = client.get("DaemonSet", ds_name(component), KUBE_SYSTEM)
    except KubeadmError:
        ds = None
    spec = update.template_spec(ds)
    if ds is None or not spec:
        return None, True
    pod = to_yaml({"apiVersion": "v1", "kind": "Pod", "spec": spec}).encode()
    return pod, not update.unchanged(update.wanted(component, rendered, ds), ds)


def _addon(client: KubeClient, cfg: KubeadmConfig, name: str) -> dict[str, Any]:
    section, cm = ADDONS[name]
    if name == "coredns":
        from kubeadm_py.cluster import coredns

        current = _live_image(client, "Deployment", "coredns")
        target = coredns.image(cfg)
    else:
        from kubeadm_py.manifests.images import kubernetes_image

        current = _live_image(client, "DaemonSet", "kube-proxy")
        target = kubernetes_image("kube-proxy", cfg)
    skip = None
    if (cfg.cluster.get(section) or {}).get("disabled"):
        skip = f"{section}.disabled is set"
    else:
        try:
            if client.get("ConfigMap", cm, KUBE_SYSTEM) is None:
                skip = f"ConfigMap {KUBE_SYSTEM}/{cm} is missing"
        except KubeadmError:
            skip = "the cluster cannot be read"
    return {
        "name": name,
        "currentImage": current,
        "targetImage": target,
        "current": _image_version(current) if current else "-",
        "target": _image_version(target),
        "skipped": skip,
    }


@dataclass
class _Reader:
    """What plan and diff read: the cluster (a client), this node (fs), the options, and the
    configuration at a target version."""

    client: KubeClient
    fs: HostFS
    base_cfg: KubeadmConfig  # loaded from --config
    options: RunOptions
    log: Log
    patchsets: dict[str, PatchSet] = field(default_factory=dict)

    def facts(self, section: str) -> UpgradeFacts:
        return gather(self.client, self.fs, self.base_cfg, self.options, section)

    def at(self, f: UpgradeFacts, version: str) -> tuple[KubeadmConfig, manifests.NodeManifests]:
        """The configuration at ``version`` and the manifests it generates on this node."""
        cfg = configure(self.client, self.base_cfg, self.options, f, version)
        directory = patches_directory(cfg, self.options.patches)
        patches = load_patches_for(self.fs, directory, self.patchsets, self.log)
        return cfg, manifests.NodeManifests(cfg, self.fs, patches=patches, log=self.log)


def plan_for(r: _Reader, f: UpgradeFacts, version: str) -> dict[str, Any]:
    """The plan of one target version."""
    cfg, node_manifests = r.at(f, version)
    res = evaluate(f.version_info())
    etcd_upgrade = bool(f.settings.get("etcdUpgrade", True))
    renewal = bool(f.settings.get("certificateRenewal", True))
    node = cfg.node_name
    components: list[dict[str, Any]] = []
    swaps: list[ManifestSwap] = []
    decision = None
    if f.control_plane:
        hosted = self_hosted_components(r.fs, MANIFESTS_DIR)
        swaps, decision = node_manifests.swaps(etcd_upgrade, hosted)
        by_name = {s.component: s for s in swaps}
        new = node_manifests.generate(tuple(hosted)) if hosted else {}
        changed = {}
        for comp in hosted:
            live, changed[comp] = _live_template(r.client, comp, new[comp])
            by_name[comp] = ManifestSwap(comp, "", new[comp], live)
        for comp in CONTROL_PLANE_COMPONENTS:
            s = by_name[comp]
            cur_img, new_img = manifests.image_of(s.old), manifests.image_of(s.new)
            components.append(
                {
                    "name": comp,
                    "node": node,
                    "current": _image_version(cur_img),
                    "target": _image_version(new_img),
                    "currentImage": cur_img,
                    "targetImage": new_img,
                    "mode": "self-hosted" if comp in changed else "static",
                    "manifestChanged": changed.get(comp, not s.unchanged),
                    "flags": manifests.flag_changes(s.old, s.new),
                }
            )
    etcd: dict[str, Any] | None = None
    if decision is not None and cfg.local_etcd:
        es = next((s for s in swaps if s.component == "etcd"), None)
        etcd = {
            "node": node,
            "current": decision.current or "-",
            "target": decision.target,
            "upgrade": decision.upgrade and es is not None and not es.unchanged,
            "reason": decision.reason or ("manifest unchanged" if es is not None and es.unchanged else ""),
            "flags": manifests.flag_changes(es.old, es.new) if es is not None else {},
        }
    cert_rows: list[dict[str, Any]] = []
    if f.control_plane:
        for comp in ("etcd", *CONTROL_PLANE_COMPONENTS, "admin"):
            if comp == "etcd" and not (etcd and cfg.local_etcd):
                continue
            for p in certs.plan_component(r.fs, cfg, comp, renewal):
                cert_rows.append(
                    {
                        "component": comp,
                        "name": p.name,
                        "action": p.action,
                        "reason": p.reason,
                        "addsSANs": p.missing_sans,
                    }
                )
    kubelets = [{"node": n, "current": v, "target": version} for n, v in sorted(f.kubelets.items())]
    tags = image_tags(version)
    return {
        "targetVersion": version,
        # etcd/CoreDNS/pause tags kubeadm of exactly this patch uses (versions.image_tags)
        "imageTags": {
            "etcd": tags.etcd,
            "coredns": tags.coredns,
            "pause": tags.pause,
            "verified": tags.verified,
            "source": tags.source,
        },
        "allowed": not res.blocking(f.force),
        "policy": res.to_dict(),
        "configChanged": f.file_cluster is not None,
        "components": components,
        "etcd": etcd,
        "addons": [_addon(r.client, cfg, "coredns"), _addon(r.client, cfg, "kube-proxy")],
        "kubelets": kubelets,
        "certificates": cert_rows,
    }


def plan(
    client: KubeClient, fs: HostFS, cfg: KubeadmConfig, options: RunOptions, log: Log = _no_log
) -> dict[str, Any]:
    """Plans for ``options.version`` (refused by the policy: :class:`KubeadmError`) or for every
    candidate from the version table. ``cfg`` is the configuration loaded from ``--config``."""
    r = _Reader(client, fs, cfg, options, log)
    f = r.facts("plan")
    explicit = options.version or options.kubernetes_version
    if not explicit:
        explicit = ((cfg.upgrade or {}).get("plan") or {}).get("kubernetesVersion")
    if explicit:
        Version.parse_semantic(str(explicit))
        versions = [str(explicit)]
    else:
        versions = candidates(f.cluster_version)
        if f.file_cluster is not None:  # a configuration change at the current version
            versions.insert(0, f.stored_version or f.cluster_version)
    plans = []
    for v in versions:
        f.target = v
        if explicit:
            enforce(f.version_info(), force=f.force)  # a refused explicit version is an error
        elif evaluate(f.version_info()).blocking(f.force):
            log(f"[upgrade/versions] not offering {v}: refused by the version skew policy")
            continue
        try:
            p = plan_for(r, f, v)
        except KubeadmError as e:
            if explicit:
                raise
            log(f"[upgrade/versions] not offering {v}: {e}")
            continue
        plans.append(p)
    return {
        "clusterVersion": f.cluster_version,
        "controlPlaneMode": control_plane_mode(client, fs),
        "configSource": "--config ClusterConfiguration"
        if f.file_cluster is not None
        else "kube-system/kubeadm-config",
        "controlPlaneNode": f.control_plane,
        "configFile": options.config or None,
        "plans": plans,
        "rules": policy_table(),
    }


def rendered(
    client: KubeClient, fs: HostFS, cfg: KubeadmConfig, options: RunOptions, log: Log = _no_log
) -> tuple[KubeadmConfig, manifests.NodeManifests]:
    """The configuration this node gets from the cluster (``kube-system/kubeadm-config``, or the
    ``--config`` ClusterConfiguration) at the stored version (or ``options.version``), and the
    manifests it renders here (``--patches`` applied): what ``diff`` and ``verify``'s drift check
    compare the node's manifests with."""
    r = _Reader(client, fs, cfg, options, log)
    f = r.facts("diff")
    return r.at(f, resolve_target(f, cfg, options.version))


def diff(client: KubeClient, fs: HostFS, cfg: KubeadmConfig, options: RunOptions, log: Log = _no_log) -> str:
    """Unified diffs between this node's manifests and those the upgrade would write."""
    _, node_manifests = rendered(client, fs, cfg, options, log)
    context_lines = 3 if options.context_lines is None else options.context_lines
    override = {
        "kube-apiserver": options.api_server_manifest,
        "kube-controller-manager": options.controller_manager_manifest,
        "kube-scheduler": options.scheduler_manifest,
    }
    new = node_manifests.generate(CONTROL_PLANE_COMPONENTS)
    out = []
    for comp in CONTROL_PLANE_COMPONENTS:
        path = override[comp] or node_manifests.path(comp)
        old = fs.read_bytes(path)
        if old is None:
            raise KubeadmError(f"cannot diff {comp}: {path} does not exist")
        out.append(manifests.unified_diff(old, new[comp], path, context_lines))
    return "".join(out)


# --- text rendering --------------------------------------------------------------------------------


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["   ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]


def _flags_text(flags: Mapping[str, Any]) -> list[str]:
    out = [f"+ --{a['flag']}={a['value']}" for a in flags.get("added", [])]
    out += [f"- --{a['flag']}={a['value']}" for a in flags.get("removed", [])]
    out += [f"~ --{a['flag']}: {a['from']} -> {a['to']}" for a in flags.get("changed", [])]
    return out


def control_plane_mode(client: KubeClient, fs: HostFS) -> dict[str, str]:
    """Per component of this node: static, self-hosted or absent (docs/selfhosting.md)."""
    from kubeadm_py.selfhosting.status import rows
    from kubeadm_py.upgrade.config import node_local

    node = node_local(fs, MANIFESTS_DIR).node_name
    return {r.component: r.mode for r in rows(fs, MANIFESTS_DIR, node, client)[0] if r.node == node}


def render_text(result: Mapping[str, Any]) -> str:
    lines = [
        f"[upgrade/config] Using the ClusterConfiguration from {result['configSource']}",
        f"[upgrade/versions] Cluster version: {result['clusterVersion']}",
    ]
    modes = result.get("controlPlaneMode") or {}
    if "self-hosted" in modes.values():
        lines.append(
            "[upgrade/config] Control plane mode on this node: "
            + ", ".join(f"{c} {m}" for c, m in modes.items())
            + " (self-hosted components are DaemonSets: 'upgrade apply' updates them through the API, "
            "for a configuration or a version change)"
        )
    elif modes:
        lines.append("[upgrade/config] Control plane mode on this node: static Pods")
    if not result["plans"]:
        lines += ["", "Awesome, you're up-to-date! Enjoy! (no newer version in kubeadm-py's version table)"]
        return "\n".join(lines) + "\n"
    cfg = result.get("configFile")
    for p in result["plans"]:
        v = p["targetVersion"]
        lines += ["", f"Upgrade to {v}:", ""]
        kubelets = [k for k in p["kubelets"] if k["current"] != k["target"]]
        if kubelets:
            lines.append(
                "Components that must be upgraded manually after you have upgraded the control plane "
                "with 'kubeadm-py upgrade apply':"
            )
            lines += _table(
                [["COMPONENT", "NODE", "CURRENT", "TARGET"]]
                + [["kubelet", k["node"], k["current"], k["target"]] for k in kubelets]
            )
            lines.append("")
        lines.append("Control plane and addons ('kubeadm-py upgrade apply'):")
        rows = [["COMPONENT", "NODE", "CURRENT", "TARGET", "MANIFEST"]]
        for c in p["components"]:
            rows.append(
                [
                    c["name"],
                    c["node"],
                    c["current"],
                    c["target"],
                    "changes" if c["manifestChanged"] else "same",
                ]
            )
        if p["etcd"]:
            e = p["etcd"]
            rows.append(
                [
                    "etcd",
                    e["node"],
                    e["current"],
                    e["target"],
                    "changes" if e["upgrade"] else (e["reason"] or "same"),
                ]
            )
        for a in p["addons"]:
            rows.append(
                [a["name"], "", a["current"], a["target"], f"skipped: {a['skipped']}" if a["skipped"] else ""]
            )
        lines += _table(rows)
        t = p["imageTags"]
        lines += [
            "",
            f"Image tags of {v}: etcd {t['etcd']}, CoreDNS {t['coredns']}, pause {t['pause']}"
            + ("" if t["verified"] else " (unverified: no source lists this patch; carried over)"),
        ]
        changed = [(c["name"], _flags_text(c["flags"])) for c in p["components"]]
        if p["etcd"]:
            changed.append(("etcd", _flags_text(p["etcd"]["flags"])))
        changed = [(n, fl) for n, fl in changed if fl]
        if changed:
            lines += [
                "",
                "Command-line changes of the static Pods ('kubeadm-py upgrade diff' shows the full diff):",
            ]
            for name, fl in changed:
                lines.append(f"  {name}:")
                lines += [f"    {x}" for x in fl]
        acts = [c for c in p["certificates"] if c["action"] != "skip"]
        if acts:
            lines += ["", "Certificates:"]
            for c in acts:
                extra = f" (adds SANs {', '.join(c['addsSANs'])})" if c["addsSANs"] else ""
                lines.append(f"  {c['action']:<8} {c['name']}{extra}")
        for msg in p["policy"]["skippable"] + p["policy"]["warnings"]:
            lines.append(f"WARNING: {msg}")
        lines += [
            "",
            "You can now apply the upgrade by executing the following command:",
            "",
            f"\tkubeadm-py upgrade apply {v}" + (f" --config {cfg}" if cfg else ""),
            "",
        ]
    return "\n".join(lines) + "\n"
