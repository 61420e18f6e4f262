"""The manifests an upgrade would write: the same generation code as ``init`` (version table, user
extraArgs/extraVolumes/extraEnvs, ``--patches``), compared with the ones on disk."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import yaml

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.constants import CONTROL_PLANE_COMPONENTS, MANIFESTS_DIR
from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.pod import to_yaml
from kubeadm_py.patches import PatchSet
from kubeadm_py.semver import Version, VersionError
from kubeadm_py.upgrade.staticpods import ManifestSwap

ETCD = "etcd"
Log = Callable[[str], None]


def _no_log(msg: str) -> None:
    return None


@dataclass
class EtcdDecision:
    upgrade: bool
    current: str  # current image tag ("" when unknown)
    target: str
    reason: str


def image_of(manifest: bytes | None) -> str:
    if not manifest:
        return ""
    try:
        pod = yaml.safe_load(manifest)
        return str(pod["spec"]["containers"][0].get("image", ""))
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return ""


def tag_of(image: str) -> str:
    last = image.rsplit("/", 1)[-1]
    return last.split(":", 1)[1] if ":" in last else ""


def _etcd_version(tag: str) -> Version | None:
    try:
        return Version.parse(tag.split("-", 1)[0], "etcd image tag")
    except VersionError:  # an unparsable tag means "unknown"
        return None


@dataclass
class NodeManifests:
    """This node's static Pod manifests and the ones ``cfg`` generates (``--patches`` applied)."""

    cfg: KubeadmConfig
    fs: HostFS
    manifests_dir: str = MANIFESTS_DIR
    patches: PatchSet | None = None
    log: Log = _no_log

    def path(self, component: str) -> str:
        return f"{self.manifests_dir.rstrip('/')}/{component}.yaml"

    def current(self, component: str) -> bytes | None:
        return self.fs.read_bytes(self.path(component))

    def generate(self, components: tuple[str, ...]) -> dict[str, bytes]:
        """New manifests for ``components`` (control plane and/or ``etcd``), patched."""
        from kubeadm_py.manifests.controlplane import build_control_plane
        from kubeadm_py.manifests.etcd import build_etcd

        pods: dict[str, Any] = {}
        cp = tuple(c for c in components if c != ETCD)
        warnings: list[str] = []
        if cp:
            res = build_control_plane(self.cfg, self.fs, cp)
            pods.update(res.pods)
            warnings += res.warnings
        if ETCD in components:
            res = build_etcd(self.cfg)
            pods.update(res.pods)
            warnings += res.warnings
        for w in dict.fromkeys(warnings):
            self.log(f"[upgrade/staticpods] WARNING: {w}")
        out: dict[str, bytes] = {}
        for comp in components:
            pod = pods[comp]
            if self.patches is not None:
                pod = self.patches.apply(comp, pod, self.log)
            out[comp] = to_yaml(pod).encode()
        return out

    def etcd_decision(self, etcd_upgrade: bool, new_manifest: bytes | None) -> EtcdDecision:
        """Whether to swap the etcd manifest (upstream: skip when equal, never downgrade etcd)."""
        cur = self.current(ETCD)
        cur_tag, new_tag = tag_of(image_of(cur)), tag_of(image_of(new_manifest))
        if not self.cfg.local_etcd:
            return EtcdDecision(False, cur_tag, new_tag, "external etcd")
        if cur is None:
            return EtcdDecision(False, cur_tag, new_tag, "no local etcd manifest on this node")
        if not etcd_upgrade:
            return EtcdDecision(False, cur_tag, new_tag, "--etcd-upgrade=false")
        a, b = _etcd_version(cur_tag), _etcd_version(new_tag)
        if a is not None and b is not None and b < a:
            return EtcdDecision(
                False,
                cur_tag,
                new_tag,
                f"the target etcd {new_tag} is older than the running {cur_tag}: not downgrading",
            )
        return EtcdDecision(True, cur_tag, new_tag, "")

    def swaps(
        self, etcd_upgrade: bool, self_hosted: Collection[str] = ()
    ) -> tuple[list[ManifestSwap], EtcdDecision]:
        """The ordered swaps: etcd first (when it is to be upgraded), then the control plane but the
        ``self_hosted`` components (their DaemonSets are updated through the API instead)."""
        static = tuple(c for c in CONTROL_PLANE_COMPONENTS if c not in self_hosted)
        comps = (ETCD, *static) if self.cfg.local_etcd and self.fs.exists(self.path(ETCD)) else static
        new = self.generate(comps)
        decision = self.etcd_decision(etcd_upgrade, new.get(ETCD))
        order = (ETCD, *static) if decision.upgrade else static
        out = [ManifestSwap(c, self.path(c), new[c], self.current(c)) for c in order]
        return out, decision


def unified_diff(old: bytes | None, new: bytes, path: str, context: int = 3) -> str:
    a = (old or b"").decode(errors="replace").splitlines(keepends=True)
    b = new.decode(errors="replace").splitlines(keepends=True)
    return "".join(difflib.unified_diff(a, b, fromfile=path, tofile="new manifest", n=context))


def command_flags(manifest: bytes | None) -> dict[str, str]:
    if not manifest:
        return {}
    try:
        pod = yaml.safe_load(manifest)
        cmd = pod["spec"]["containers"][0].get("command") or []
    except (yaml.YAMLError, KeyError, IndexError, TypeError):
        return {}
    out = {}
    for part in cmd[1:]:
        if part.startswith("--"):
            name, _, value = part[2:].partition("=")
            out[name] = value
    return out


def flag_changes(old: bytes | None, new: bytes) -> dict[str, list[dict[str, str | None]]]:
    """Flags added, removed and changed between two manifests' commands."""
    a, b = command_flags(old), command_flags(new)
    return {
        "added": [{"flag": k, "value": b[k]} for k in b if k not in a],
        "removed": [{"flag": k, "value": a[k]} for k in a if k not in b],
        "changed": [{"flag": k, "from": a[k], "to": b[k]} for k in b if k in a and a[k] != b[k]],
    }
