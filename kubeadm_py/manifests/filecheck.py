"""Offline refusal of component flags that cannot work (issue 17): a file-path flag given in
``extraArgs`` must name a file the container can see (inside one of its volumes, ``extraVolumes``
and patches included) that exists on the node, unless kubeadm writes it itself (certificates,
kubeconfig files). A hostPath volume with a ``type`` must find that kind of path on the node (the
kubelet's hostPath type check; otherwise the Pod is never started). Checked on the final static
Pod (after patches), before anything is written."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from kubeadm_py.manifests.args import get_arg, parse_command
from kubeadm_py.manifests.pod import container_command

# Flags whose value is a file the component opens when it starts (and exits when it cannot).
FILE_FLAGS: Mapping[str, tuple[str, ...]] = {
    "kube-apiserver": (
        "admission-control-config-file",
        "audit-policy-file",
        "audit-webhook-config-file",
        "authentication-config",
        "authentication-token-webhook-config-file",
        "authorization-config",
        "authorization-webhook-config-file",
        "client-ca-file",
        "egress-selector-config-file",
        "encryption-provider-config",
        "etcd-cafile",
        "etcd-certfile",
        "etcd-keyfile",
        "kubelet-certificate-authority",
        "kubelet-client-certificate",
        "kubelet-client-key",
        "oidc-ca-file",
        "proxy-client-cert-file",
        "proxy-client-key-file",
        "requestheader-client-ca-file",
        "service-account-key-file",
        "service-account-signing-key-file",
        "tls-cert-file",
        "tls-private-key-file",
        "token-auth-file",
        "tracing-config-file",
    ),
    "kube-controller-manager": (
        "authentication-kubeconfig",
        "authorization-kubeconfig",
        "client-ca-file",
        "cluster-signing-cert-file",
        "cluster-signing-key-file",
        "kubeconfig",
        "requestheader-client-ca-file",
        "root-ca-file",
        "service-account-private-key-file",
        "tls-cert-file",
        "tls-private-key-file",
    ),
    "kube-scheduler": (
        "authentication-kubeconfig",
        "authorization-kubeconfig",
        "client-ca-file",
        "config",
        "kubeconfig",
        "requestheader-client-ca-file",
        "tls-cert-file",
        "tls-private-key-file",
    ),
}


def _host_path(pod: Mapping[str, Any], path: str) -> str | None:
    """The node path behind ``path`` in the Pod's first container (the deepest volume mount that
    holds it), or None when no hostPath volume holds it."""
    spec = pod.get("spec") or {}
    volumes = {v.get("name"): (v.get("hostPath") or {}).get("path") for v in spec.get("volumes") or []}
    best: tuple[int, str] | None = None
    for m in ((spec.get("containers") or [{}])[0]).get("volumeMounts") or []:
        mount = str(m.get("mountPath") or "").rstrip("/") or "/"
        host = volumes.get(m.get("name"))
        if not host:
            continue
        inside = path == mount or path.startswith(mount.rstrip("/") + "/")
        if inside and (best is None or len(mount) > best[0]):
            best = (len(mount), str(host).rstrip("/") + path[len(mount.rstrip("/")) :])
    return best[1] if best else None


def file_flag_errors(
    component: str,
    pod: Mapping[str, Any],
    user_flags: Sequence[str],
    exists: Callable[[str], bool],
    kubeadm_writes: Callable[[str], bool],
) -> list[str]:
    """Why the file-path flags among ``user_flags`` (the extraArgs names) of ``pod`` cannot work."""
    args = parse_command(container_command(dict(pod)))
    out: list[str] = []
    for flag in FILE_FLAGS.get(component, ()):
        if flag not in user_flags:
            continue
        value = get_arg(args, flag)
        if not value:
            continue
        host = _host_path(pod, value)
        if host is None:
            out.append(
                f"{component}: --{flag}={value}: no volume of the {component} container holds {value} "
                "(add an extraVolumes entry for it, hostPath and mountPath)"
            )
        elif not kubeadm_writes(host) and not exists(host):
            out.append(f"{component}: --{flag}={value}: {host} does not exist on this node")
    return out


# hostPath type -> (the kind of node path it needs, in HostFS.kind's words; may it be absent).
PATH_TYPES: Mapping[str, tuple[str, bool]] = {
    "File": ("file", False),
    "Directory": ("dir", False),
    "Socket": ("socket", False),
    "CharDevice": ("char", False),
    "BlockDevice": ("block", False),
    "FileOrCreate": ("file", True),
    "DirectoryOrCreate": ("dir", True),
}
# The kubelet's words for each kind (pkg/volume/hostpath: "hostPath type check failed: %s is not a ...").
KIND_WORDS = {
    "file": "file",
    "dir": "directory",
    "socket": "socket file",
    "char": "character device",
    "block": "block device",
}


def host_path_type_errors(
    component: str,
    pod: Mapping[str, Any],
    kind: Callable[[str], str | None],
    kubeadm_writes: Callable[[str], bool],
) -> list[str]:
    """Why the kubelet's hostPath type check would fail for ``pod``'s volumes on this node
    (``kind``: HostFS.kind); paths kubeadm writes itself are left out."""
    out: list[str] = []
    for v in (pod.get("spec") or {}).get("volumes") or []:
        host = v.get("hostPath") or {}
        path, want = str(host.get("path") or ""), PATH_TYPES.get(str(host.get("type") or ""))
        if not path or want is None or kubeadm_writes(path):
            continue
        found = kind(path)
        if found == want[0] or (found is None and want[1]):
            continue
        what = "it does not exist" if found is None else f"it is a {KIND_WORDS.get(found, found)}"
        out.append(
            f"{component}: volume {v.get('name')!r}: hostPath type check failed: {path} is not a "
            f"{KIND_WORDS[want[0]]} ({what}; type {host.get('type')})"
        )
    return out
