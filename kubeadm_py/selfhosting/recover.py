"""``kubeadm-py selfhosting recover``: the manual way back when the checkpointer could not bring
the control plane back (it was not installed, or it had stored no checkpoint yet). Each component
gets an active checkpoint (a static Pod ``kubeadm-py-checkpoint-<component>``): from its stored
checkpoint, else rendered from the cluster's kubeadm configuration as ``init`` renders the static
Pods. The hand-off to the DaemonSet Pods is then the checkpointer's: the installed service does it,
or ``recover`` runs the same loop in the foreground until no checkpoint is active."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from kubeadm_py.changes import Change
from kubeadm_py.constants import MANIFESTS_DIR
from kubeadm_py.errors import KubeadmError
from kubeadm_py.hostfs import HostFS
from kubeadm_py.manifests.write import manifest_path, write_static_pod
from kubeadm_py.selfhosting.checkpoint import (
    GENERATION_ANNOTATION,
    SOURCE_ANNOTATION,
    checkpoint_name,
)
from kubeadm_py.selfhosting.checkpointer import read_stored, states
from kubeadm_py.selfhosting.contract import COMPONENTS

Pod = dict[str, Any]


@dataclass(frozen=True)
class Recovered:
    component: str
    source: str  # "active" (left as it is), "stored", "config", "static" (a static manifest is there)
    change: Change | None


def from_config(pod: Pod, component: str) -> Pod:
    """A static Pod rendered from kubeadm-config, named and annotated as a checkpoint."""
    meta = pod.setdefault("metadata", {})
    meta["name"] = checkpoint_name(component)
    meta.setdefault("annotations", {})[SOURCE_ANNOTATION] = "kubeadm-config"
    meta["annotations"].pop(GENERATION_ANNOTATION, None)
    return pod


def recover(
    fs: HostFS,
    render: Callable[[], Mapping[str, Pod]] | None,
    *,
    manifests_dir: str = MANIFESTS_DIR,
    components: tuple[str, ...] = COMPONENTS,
) -> list[Recovered]:
    """Activate a checkpoint per component (see the module). ``render`` gives the static Pods from
    the kubeadm configuration (None: no configuration given); a component with neither a stored
    checkpoint nor a configuration is an error, and nothing is written then."""
    found = states(fs, manifests_dir, components)
    static = {c for c in components if fs.exists(manifest_path(manifests_dir, c))}
    missing = [c for c in components if found[c] == "none" and c not in static]
    if missing and render is None:
        raise KubeadmError(
            f"no stored checkpoint for {', '.join(missing)} on this node",
            hint="pass the cluster's kubeadm configuration with --config to render the static Pods",
        )
    rendered = render() if missing and render is not None else {}
    out: list[Recovered] = []
    for c in components:
        if c in static:
            out.append(Recovered(c, "static", None))
        elif found[c] == "active":
            out.append(Recovered(c, "active", None))
        elif found[c] == "stored":
            pod = read_stored(fs, c)
            assert pod is not None
            out.append(Recovered(c, "stored", write_static_pod(fs, manifests_dir, checkpoint_name(c), pod)))
        else:
            pod = from_config(rendered[c], c)
            out.append(Recovered(c, "config", write_static_pod(fs, manifests_dir, checkpoint_name(c), pod)))
    return out
