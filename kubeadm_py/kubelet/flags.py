"""``/var/lib/kubelet/kubeadm-flags.env`` (``phases/kubelet/flags.go``)."""

from __future__ import annotations

import socket
from typing import Any

from kubeadm_py.config.types import KubeadmConfig
from kubeadm_py.manifests.args import Arg, args_from_config, arguments_to_command, get_arg
from kubeadm_py.manifests.images import pause_image
from kubeadm_py.versions import DOCKERSHIM_KUBELET_FLAGS, DOCKERSHIM_SOCKETS, release_for

ENV_VARIABLE = "KUBELET_KUBEADM_ARGS"
DEFAULT_CRI_SOCKET = "unix:///var/run/containerd/containerd.sock"


def hostname() -> str:
    return socket.gethostname().strip().lower()


def cri_socket(cfg: KubeadmConfig) -> str:
    return str(cfg.node_registration.get("criSocket") or DEFAULT_CRI_SOCKET)


def taint_string(t: dict[str, Any]) -> str:
    key, value, effect = t.get("key", ""), t.get("value"), t.get("effect", "")
    s = f"{key}={value}" if value else str(key)
    return f"{s}:{effect}" if effect else s


def kubelet_flag_args(
    cfg: KubeadmConfig, *, register_taints: bool = False, host: str | None = None
) -> list[Arg]:
    """Default kubelet flags for this node (before ``kubeletExtraArgs``)."""
    rel = release_for(cfg.kubernetes_version)
    nr = cfg.node_registration
    sock = cri_socket(cfg)
    templates = (
        DOCKERSHIM_KUBELET_FLAGS
        if (rel.minor_number < 24 and sock in DOCKERSHIM_SOCKETS)
        else rel.kubelet_flags
    )
    values = {"cri_socket": sock, "pause_image": pause_image(cfg)}
    args: list[Arg] = [(n, v.format(**values)) for n, v in templates]
    taints = nr.get("taints") or []
    if register_taints and taints:
        args.append(("register-with-taints", ",".join(taint_string(t) for t in taints)))
    extra = args_from_config(nr.get("kubeletExtraArgs"), "nodeRegistration.kubeletExtraArgs")
    node = get_arg(extra, "hostname-override") or cfg.node_name or (host or hostname())
    if node != (host or hostname()):
        args.append(("hostname-override", node))
    return args


def go_quote(s: str) -> str:
    """Go's %q for the strings kubeadm writes (printable ASCII plus the usual escapes)."""
    out = ['"']
    for ch in s:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def kubeadm_flags_env(cfg: KubeadmConfig, *, register_taints: bool = False, host: str | None = None) -> str:
    extra = args_from_config(
        cfg.node_registration.get("kubeletExtraArgs"), "nodeRegistration.kubeletExtraArgs"
    )
    argv = arguments_to_command(kubelet_flag_args(cfg, register_taints=register_taints, host=host), extra)
    return f"{ENV_VARIABLE}={go_quote(' '.join(argv))}\n"


def parse_flags_env(text: str) -> list[str]:
    """The argv of a kubeadm-flags.env file (for starting the kubelet by hand)."""
    import shlex

    for line in text.splitlines():
        if line.startswith(f"{ENV_VARIABLE}="):
            words = shlex.split(line.split("=", 1)[1])
            return " ".join(words).split()
    return []


def instance_config_text(endpoint: str) -> str:
    """The instance-config.yaml text for ``endpoint`` (``WriteInstanceConfigToDisk``:
    ``fmt.Sprintf("containerRuntimeEndpoint: %q\\n", ...)``)."""
    return f"containerRuntimeEndpoint: {go_quote(endpoint)}\n"


def instance_config(cfg: KubeadmConfig) -> str | None:
    """``/var/lib/kubelet/instance-config.yaml`` for minors where NodeLocalCRISocket is on by default
    (``MinorRelease.node_local_cri_socket``, kubeadm v1.34+): one line with the node's CRI socket, which
    upstream applies over config.yaml; None for older minors (the socket goes to kubeadm-flags.env)."""
    if not release_for(cfg.kubernetes_version).node_local_cri_socket:
        return None
    return instance_config_text(cri_socket(cfg))


def split_runtime_endpoint(text: str) -> tuple[str, list[Arg]]:
    """A kubeadm-flags.env split into its ``--container-runtime-endpoint`` value ("" when absent) and
    the other flags (upgrade to a NodeLocalCRISocket minor; ``ReadKubeletDynamicEnvFile`` pairs a
    flag without ``=`` with the next word)."""
    words = parse_flags_env(text)
    endpoint = ""
    rest: list[Arg] = []
    i = 0
    while i < len(words):
        word = words[i]
        if "=" in word:
            name, value = word.split("=", 1)
        elif i + 1 < len(words):
            name, value = word, words[i + 1]
            i += 1
        else:
            break
        i += 1
        name = name.lstrip("-")
        if name == "container-runtime-endpoint":
            endpoint = value
        else:
            rest.append((name, value))
    return endpoint, rest


def flags_env_text(args: list[Arg]) -> str:
    """kubeadm-flags.env for already-final flags (``WriteKubeletArgsToFile(flags, nil, dir)``)."""
    return f"{ENV_VARIABLE}={go_quote(' '.join(arguments_to_command(args, [])))}\n"
