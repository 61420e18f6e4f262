"""``--patches DIR``: kubeadm's patch files (``cmd/kubeadm/app/util/patches/patches.go``).

File names: ``target[suffix][+patchtype].{yaml,json}`` with target one of :data:`KNOWN_TARGETS` and
patchtype ``strategic`` (default), ``merge`` (RFC 7386) or ``json`` (RFC 6902). Files are read in
lexical path order (``filepath.Walk``, which also descends into sub-directories); a file may hold
several YAML documents, each one patch. Files with another extension or an unknown target are
ignored with a note; ``+`` without a known patch type is an error.

Strategic merge patch is implemented for what static Pods and the KubeletConfiguration need:
maps merge recursively, ``null`` deletes a key, lists of objects with a Kubernetes ``patchMergeKey``
(containers/initContainers/ephemeralContainers/volumes/env/ports/imagePullSecrets by ``name``,
volumeMounts by ``mountPath``, volumeDevices by ``devicePath``, hostAliases by ``ip``, ports by
``containerPort``, tolerations/command/args and every other list replaced) are merged by key,
and the directives ``$patch: replace|delete|merge`` (maps and list items), ``$retainKeys`` and
``$deleteFromPrimitiveList/<field>`` are honoured; ``$setElementOrder/<field>`` is accepted and ignored.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonpatch
import yaml

from kubeadm_py.config import limits
from kubeadm_py.config.loader import JSONLoader, yaml_problem
from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.versions import PATCH_TARGETS

KNOWN_TARGETS = PATCH_TARGETS
PATCH_TYPES = ("json", "merge", "strategic")
_EXT_RE = re.compile(r".+\.(json|yaml)$")
_NAME_RE = re.compile(
    r"^(" + "|".join(re.escape(t) for t in KNOWN_TARGETS) + r")([^.+\n]*)?(\+)?(json|merge|strategic)?"
)

# patchMergeKey of list fields, by field name, for Pod / Deployment objects (k8s.io/api/core/v1 tags).
POD_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "volumes": "name",
    "env": "name",
    "imagePullSecrets": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "hostAliases": "ip",
    "ports": "containerPort",
    "resourceClaims": "name",
}
MERGE_KEYS_BY_TARGET: dict[str, dict[str, str]] = {
    "etcd": POD_MERGE_KEYS,
    "kube-apiserver": POD_MERGE_KEYS,
    "kube-controller-manager": POD_MERGE_KEYS,
    "kube-scheduler": POD_MERGE_KEYS,
    "corednsdeployment": POD_MERGE_KEYS,
    "kubeletconfiguration": {},  # no patchMergeKey tags: lists are replaced
}


@dataclass
class PatchFile:
    path: str
    target: str
    patch_type: str
    patches: list[Any]


@dataclass
class PatchSet:
    directory: str
    files: list[PatchFile] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def for_target(self, target: str) -> list[PatchFile]:
        return [f for f in self.files if f.target == target]

    def apply(self, target: str, obj: Any, log: Callable[[str], None] | None = None) -> Any:
        """Apply every patch for ``target`` to a copy of ``obj`` (a dict), in file order."""
        if target not in KNOWN_TARGETS:
            raise KubeadmError(f"unknown patch target name {target!r}, must be one of {list(KNOWN_TARGETS)}")
        data = copy.deepcopy(obj)
        for pf in self.for_target(target):
            for i, patch in enumerate(pf.patches):
                where = pf.path if len(pf.patches) == 1 else f"{pf.path} (document {i + 1})"
                data = apply_patch(data, patch, pf.patch_type, target, where)
                if log:
                    log(f"[patches] Applied patch of type {_type_name(pf.patch_type)!r} to target {target!r}")
        return data


def _type_name(t: str) -> str:
    return {
        "strategic": "application/strategic-merge-patch+json",
        "merge": "application/merge-patch+json",
        "json": "application/json-patch+json",
    }[t]


def parse_filename(name: str) -> tuple[str | None, str | None, str | None]:
    """(target, patch type, None) for a patch file; (None, None, reason) for an ignored file.
    Raises for a '+' with an unknown or missing patch type."""
    if not _EXT_RE.match(name):
        return None, None, "the file extension must be one of ['json', 'yaml']"
    m = _NAME_RE.match(name)
    if not m:
        return None, None, f"unknown target, must be one of {list(KNOWN_TARGETS)}"
    if m.group(3) and not m.group(4):
        raise KubeadmError(
            f"patch file {name!r}: unknown or missing patch type after '+', must be one of {list(PATCH_TYPES)}"  # noqa: E501
        )
    return m.group(1), m.group(4) or "strategic", None


def load_patches(directory: str | os.PathLike[str], display: str | None = None) -> PatchSet:
    """Read the patch files of ``directory`` (a real path; ``display`` names it in messages)."""
    root = Path(directory)
    shown = display or str(directory)
    if not root.exists():
        raise KubeadmError(f"could not list patch files for path {shown!r}: no such directory")
    if not root.is_dir():
        raise KubeadmError(f"could not list patch files for path {shown!r}: not a directory")
    ps = PatchSet(shown)
    paths: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        paths += [Path(dirpath) / f for f in filenames]
    for p in sorted(paths, key=lambda q: str(q.relative_to(root)).split(os.sep)):
        rel = str(p.relative_to(root))
        target, ptype, reason = parse_filename(p.name)
        if target is None:
            ps.ignored.append(rel)
            ps.notes.append(f"[patches] Ignoring file {p.name!r}: {reason}")
            continue
        where = f"patch file {shown.rstrip('/')}/{rel}"
        data = _read_patch(p, where)
        if not data.strip():
            ps.ignored.append(rel)
            ps.notes.append(f"[patches] Ignoring empty file: {p.name!r}")
            continue
        try:
            docs = []
            for d in yaml.load_all(data, Loader=JSONLoader):
                limits.check_values(d, where)
                if d is not None:
                    docs.append(d)
        except yaml.YAMLError as e:
            raise KubeadmError(f"{where}: {yaml_problem(e)}") from None
        ps.files.append(PatchFile(f"{shown.rstrip('/')}/{rel}", target, str(ptype), docs))
    return ps


def _read_patch(path: Path, where: str) -> str:
    try:
        with open(path, "rb") as fh:
            raw = limits.read_bounded(fh, where)
    except OSError as e:
        raise KubeadmError(f"{where}: cannot read: {e.strerror or e}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise KubeadmError(f"{where}: not a text file (expected UTF-8 YAML or JSON)") from None


def patches_directory(cfg: KubeadmConfig, flag: str | None) -> str | None:
    """The patch directory of a run: ``--patches``, else ``{init,join,upgrade}.patches.directory``."""
    if flag:
        return flag
    for doc in (cfg.init, cfg.join, cfg.upgrade):
        if doc and (doc.get("patches") or {}).get("directory"):
            return str(doc["patches"]["directory"])
    return None


def load_patches_for(
    fs: HostFS, directory: str | None, cache: dict[str, PatchSet], log: Callable[[str], None]
) -> PatchSet | None:
    """The patch set in ``directory`` (a host path, read through ``fs`` so --rootfs applies; a
    relative path is relative to the working directory), loaded once per run: ``cache`` keeps the
    sets by directory. None when there is no directory."""
    if not directory:
        return None
    if directory not in cache:
        real = fs.read_path(directory) if str(directory).startswith("/") else Path(directory)
        ps = load_patches(real, display=str(directory))
        log(f"[patches] Reading patches from path {directory!r}")
        if ps.files:
            log(f"[patches] Found the following patch files: {[Path(f.path).name for f in ps.files]}")
        if ps.ignored:
            log(f"[patches] Ignored the following files: {ps.ignored}")
        cache[directory] = ps
    return cache[directory]


# --- patch application -----------------------------------------------------------------------------


def apply_patch(obj: Any, patch: Any, patch_type: str, target: str, where: str) -> Any:
    def fail(msg: str) -> KubeadmError:
        return KubeadmError(
            f"could not apply the {patch_type} patch {where} to target {target!r}: {msg}",
            hint="fix or remove the patch file",
        )

    if patch_type == "json":
        if not isinstance(patch, list):
            raise fail("a json patch must be a list of operations ([{op, path, value}])")
        try:
            return jsonpatch.apply_patch(obj, patch)
        except (
            jsonpatch.JsonPatchException,
            jsonpatch.JsonPointerException,
            KeyError,
            IndexError,
            TypeError,
        ) as e:
            # jsonpatch appends the whole document ("member 'x' not found in {...}"): not the news
            raise fail((str(e) or type(e).__name__).split(" in {")[0].split(" in [")[0][:300]) from None
    if not isinstance(patch, dict):
        raise fail("a merge or strategic patch must be a mapping")
    if patch_type == "merge":
        return json_merge_patch(obj, patch)
    try:
        return strategic_merge(obj, patch, MERGE_KEYS_BY_TARGET.get(target, POD_MERGE_KEYS))
    except StrategicMergeError as e:
        raise fail(str(e)) from None


def json_merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    out = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            out.pop(k, None)
        else:
            out[k] = json_merge_patch(out.get(k), v)
    return out


class StrategicMergeError(Exception):
    pass


def strategic_merge(original: Any, patch: dict[str, Any], merge_keys: dict[str, str]) -> Any:
    directive = patch.get("$patch")
    if directive == "replace":
        return {k: copy.deepcopy(v) for k, v in patch.items() if k != "$patch"}
    if directive == "delete":
        return None
    if directive not in (None, "merge"):
        raise StrategicMergeError(f"unknown $patch directive {directive!r}")
    out: dict[str, Any] = dict(original) if isinstance(original, dict) else {}
    retain = patch.get("$retainKeys")
    for key, val in patch.items():
        if key in ("$patch", "$retainKeys") or key.startswith("$setElementOrder/"):
            continue
        if key.startswith("$deleteFromPrimitiveList/"):
            fld = key.split("/", 1)[1]
            if not isinstance(val, list):
                raise StrategicMergeError(f"{key} must be a list")
            out[fld] = [x for x in (out.get(fld) or []) if x not in val]
            continue
        if val is None:
            out.pop(key, None)
        elif isinstance(val, dict):
            merged = strategic_merge(out.get(key), val, merge_keys)
            if merged is None:
                out.pop(key, None)
            else:
                out[key] = merged
        elif isinstance(val, list):
            out[key] = _merge_list(out.get(key), val, merge_keys.get(key), merge_keys, key)
        else:
            out[key] = copy.deepcopy(val)
    if isinstance(retain, list):
        out = {k: v for k, v in out.items() if k in retain}
    return out


def _merge_list(
    orig: Any, patch: list[Any], key: str | None, merge_keys: dict[str, str], name: str
) -> list[Any]:
    if any(isinstance(x, dict) and x.get("$patch") == "replace" for x in patch):
        return [copy.deepcopy(x) for x in patch if not (isinstance(x, dict) and "$patch" in x)]
    if key is None or not all(isinstance(x, dict) for x in patch):
        if any(isinstance(x, dict) and "$patch" in x for x in patch):
            raise StrategicMergeError(
                f"list {name!r} has no merge key; $patch directives cannot be used in it"
            )
        return copy.deepcopy(patch)
    result = [copy.deepcopy(x) for x in (orig if isinstance(orig, list) else [])]
    for item in patch:
        if key not in item:
            raise StrategicMergeError(f"an item of list {name!r} is missing its merge key {key!r}")
        idx = next((i for i, x in enumerate(result) if isinstance(x, dict) and x.get(key) == item[key]), None)
        if item.get("$patch") == "delete":
            if idx is not None:
                result.pop(idx)
            continue
        clean = {k: v for k, v in item.items() if k != "$patch"}
        if idx is None:
            result.append(strategic_merge({}, clean, merge_keys))
        else:
            result[idx] = strategic_merge(result[idx], clean, merge_keys)
    return result


def dumps_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)
