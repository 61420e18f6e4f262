"""hostPath volumes of the control-plane static Pods (``phases/controlplane/volumes.go``).

Per component a name-keyed map of (volume, mount), so a user ``extraVolumes`` entry with the name of a
default replaces it. The CA-trust directories are mounted only when they exist on the host.
"""

from __future__ import annotations

import posixpath
from typing import Any

from kubeadm_py.config.schemagen import HOST_PATH_TYPES
from kubeadm_py.constants import CONTROLLER_MANAGER_KUBECONFIG, KUBERNETES_DIR, SCHEDULER_KUBECONFIG
from kubeadm_py.errors import ConfigError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.args import Arg, get_arg
from kubeadm_py.manifests.pod import host_path_volume, named_entries, volume_mount
from kubeadm_py.versioned import CA_TRUST_PATHS_SPLIT

CA_CERTS_VOLUME = ("ca-certs", "/etc/ssl/certs")
DEFAULT_FLEXVOLUME_DIR = "/usr/libexec/kubernetes/kubelet-plugins/volume/exec"

Mounts = dict[str, tuple[dict[str, Any], dict[str, Any]]]  # name -> (volume, volumeMount)


def _add(m: Mounts, name: str, host: str, mount: str, read_only: bool, path_type: str | None) -> None:
    m[name] = (host_path_volume(name, host, path_type), volume_mount(name, mount, read_only))


def extra_volumes(items: Any, field: str) -> list[dict[str, Any]]:
    """Validate ``extraVolumes``: absolute hostPath and mountPath, known pathType."""
    out = []
    listing = "{name, hostPath, mountPath, readOnly, pathType}"
    for where, v in named_entries(items, field, listing, "extra volume"):
        for key in ("hostPath", "mountPath"):
            p = v.get(key)
            if not p or not str(p).startswith("/"):
                raise ConfigError(
                    f"{key} {p!r} of extra volume {v['name']!r} must be an absolute path",
                    field=f"{where}.{key}",
                    hint="static Pod hostPath volumes cannot be relative to the kubelet's working directory",
                )
        pt = v.get("pathType") or ""
        if pt not in HOST_PATH_TYPES:
            raise ConfigError(
                f"unknown pathType {pt!r}",
                field=f"{where}.pathType",
                hint=f"one of {', '.join(HOST_PATH_TYPES[1:])}",
            )
        out.append(v)
    return out


def _add_extra(m: Mounts, vols: list[dict[str, Any]]) -> None:
    for v in vols:
        _add(
            m, v["name"], v["hostPath"], v["mountPath"], bool(v.get("readOnly")), str(v.get("pathType") or "")
        )


def etcd_cert_mounts(external: dict[str, Any], cert_dir: str, ca_paths: tuple[str, ...]) -> Mounts:
    """getEtcdCertVolumes: directories of the external etcd CA/cert/key not already mounted
    (``ca_paths``: the CA-trust directories the minor mounts)."""
    dirs: set[str] = set()
    for p in (external.get("caFile"), external.get("certFile"), external.get("keyFile")):
        d = posixpath.dirname(p) if p else "."
        d = d or "."
        if (
            d == "."
            or any(d.startswith(x) for x in ca_paths)
            or d.startswith(CA_CERTS_VOLUME[1])
            or d.startswith(cert_dir)
        ):
            continue
        exists = False
        for existing in sorted(dirs):
            if existing.startswith(d):
                dirs.discard(existing)
            elif d.startswith(existing):
                exists = True
        if not exists:
            dirs.add(d)
    m: Mounts = {}
    for i, d in enumerate(sorted(dirs)):
        _add(m, f"etcd-certs-{i}", d, d, True, "DirectoryOrCreate")
    return m


def control_plane_mounts(
    cluster: dict[str, Any],
    fs: HostFS,
    kcm_args: list[Arg],
    *,
    flexvolume: bool = True,
    ca_paths: tuple[str, ...] = CA_TRUST_PATHS_SPLIT,
) -> dict[str, Mounts]:
    """hostPath mounts per component; ``flexvolume``: the kube-controller-manager "flexvolume-dir"
    mount (``MinorRelease.kcm_flexvolume_mount``; kubeadm v1.36 removed it); ``ca_paths``: the
    CA-trust host directories mounted when present (``ObjectsProfile.ca_cert_extra_paths``:
    ``/etc/pki`` whole before v1.31)."""
    cert_dir = str(cluster.get("certificatesDir") or "/etc/kubernetes/pki")
    out: dict[str, Mounts] = {"kube-apiserver": {}, "kube-controller-manager": {}, "kube-scheduler": {}}
    api, kcm, sched = out["kube-apiserver"], out["kube-controller-manager"], out["kube-scheduler"]
    dor, forc = "DirectoryOrCreate", "FileOrCreate"

    _add(api, "k8s-certs", cert_dir, cert_dir, True, dor)
    _add(api, CA_CERTS_VOLUME[0], CA_CERTS_VOLUME[1], CA_CERTS_VOLUME[1], True, dor)
    external = (cluster.get("etcd") or {}).get("external")
    if external:
        api.update(etcd_cert_mounts(external, cert_dir, ca_paths))

    _add(kcm, "k8s-certs", cert_dir, cert_dir, True, dor)
    _add(kcm, CA_CERTS_VOLUME[0], CA_CERTS_VOLUME[1], CA_CERTS_VOLUME[1], True, dor)
    kcm_conf = f"{KUBERNETES_DIR}/{CONTROLLER_MANAGER_KUBECONFIG}"
    _add(kcm, "kubeconfig", kcm_conf, kcm_conf, True, forc)
    if flexvolume:
        flex = get_arg(kcm_args, "flex-volume-plugin-dir")
        flex = DEFAULT_FLEXVOLUME_DIR if flex is None else flex
        _add(kcm, "flexvolume-dir", flex, flex, False, dor)

    sched_conf = f"{KUBERNETES_DIR}/{SCHEDULER_KUBECONFIG}"
    _add(sched, "kubeconfig", sched_conf, sched_conf, True, forc)

    for p in ca_paths:
        if fs.exists(p):
            name = p.replace("/", "-")[1:]
            _add(api, name, p, p, True, dor)
            _add(kcm, name, p, p, True, dor)

    for comp, key in (
        ("kube-apiserver", "apiServer"),
        ("kube-controller-manager", "controllerManager"),
        ("kube-scheduler", "scheduler"),
    ):
        vols = extra_volumes(
            (cluster.get(key) or {}).get("extraVolumes"), f"ClusterConfiguration.{key}.extraVolumes"
        )
        _add_extra(out[comp], vols)
    return out


def split(m: Mounts) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, volumeMounts), each sorted by name as VolumeMapToSlice does."""
    names = sorted(m)
    return [m[n][0] for n in names], [m[n][1] for n in names]
