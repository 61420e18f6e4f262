"""Checkpoints of self-hosted control-plane Pods: what they are called, how a running DaemonSet Pod
becomes a static Pod manifest, and what the checkpointer does given what it sees (a table).

A self-hosted node keeps, per component, the last spec of its running DaemonSet Pod as a *stored*
checkpoint (``/etc/kubernetes/selfhosting/checkpoints/<component>.yaml``). When the API server
cannot be reached and the component's DaemonSet Pod does not run on the node (after a reboot the
kubelet only starts static Pods), the checkpoint is *activated*: copied into the static Pod
manifests directory as ``kubeadm-py-checkpoint-<component>.yaml``. Once the kubelet has a
DaemonSet Pod for the component again (a new pod sandbox, which it can only get from the API
server that the checkpoint serves), the checkpoint is *deactivated* and the DaemonSet Pod takes
over. See docs/selfhosting-recovery.md."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from kubeadm_py.constants import KUBE_SYSTEM, MANIFESTS_DIR
from kubeadm_py.selfhosting import contract
from kubeadm_py.selfhosting.contract import CHECKPOINT_ANNOTATION, ds_name

CHECKPOINTS_DIR = contract.CHECKPOINT_DIR
SOURCE_ANNOTATION = "kubeadm-py.io/checkpoint-source"  # namespace/name of the Pod it came from
GENERATION_ANNOTATION = "kubeadm-py.io/checkpoint-generation"  # the DaemonSet's pod-template generation
# On an active checkpoint activated while its DaemonSet Pod ran (``upgrade apply``'s bridge): the ids
# of the DaemonSet Pod's sandboxes then, comma-separated. They do not count as new for the hand-back,
# in whichever process (the service, the upgrade) decides it.
SANDBOXES_ANNOTATION = "kubeadm-py.io/checkpoint-sandboxes"
# On a checkpoint activated again because a hand-back failed: the DaemonSet Pods (names,
# comma-separated) it is not handed back to any more. The DaemonSet controller names a Pod of a
# changed template anew, so a fixed (or rolled back) DaemonSet gets the hand-back.
FAILED_PODS_ANNOTATION = "kubeadm-py.io/checkpoint-failed-pods"
# A hand-back failed when this many containers of the DaemonSet Pod, created after it, exited while
# the API server stayed away (:attr:`Timing.handback`).
FAILED_STARTS = 2
# The components whose failed hand-back the API server's absence shows. A controller-manager or
# scheduler exits by itself while no API server answers (a lost lease), so its exits then say
# nothing of its own template; and while the API answers its checkpoint is never activated anyway.
HANDBACK_JUDGED = frozenset({"kube-apiserver"})
# Labels the DaemonSet controller adds to its Pods; a static Pod has no business with them.
DS_ONLY_LABELS = ("controller-revision-hash", "pod-template-generation", "pod-template-hash")
# Pod spec fields a static Pod does not take (scheduling, service accounts, the API's defaults that
# only make sense for a Pod the API created).
DS_ONLY_SPEC = (
    "nodeName", "nodeSelector", "affinity", "schedulerName", "serviceAccount", "serviceAccountName",
    "automountServiceAccountToken", "priority", "preemptionPolicy", "enableServiceLinks",
)  # fmt: skip
META_KEPT = ("name", "namespace", "labels", "annotations")


def checkpoint_name(component: str) -> str:
    return contract.ACTIVE_CHECKPOINT_PREFIX + component


def stored_path(component: str) -> str:
    return contract.stored_checkpoint(component)


def active_path(component: str, manifests_dir: str = MANIFESTS_DIR) -> str:
    return contract.active_checkpoint(manifests_dir, component)


def is_ds_pod_name(component: str, pod_name: str) -> bool:
    """A Pod of the component's DaemonSet: ``self-hosted-<component>-<5 chars>`` (never the
    checkpoint's static Pod, ``kubeadm-py-checkpoint-<component>-<node>``)."""
    prefix = ds_name(component) + "-"
    return pod_name.startswith(prefix) and "-" not in pod_name[len(prefix) :]


def is_checkpoint_pod_name(component: str, pod_name: str) -> bool:
    """The static Pod of the component's active checkpoint, ``kubeadm-py-checkpoint-<component>-<node>``."""
    return pod_name.startswith(checkpoint_name(component) + "-")


def _token_volumes(spec: dict[str, Any]) -> set[str]:
    """Volumes the API added for a service account token (a static Pod cannot have them)."""
    out = set()
    for v in spec.get("volumes") or []:
        name = str(v.get("name", ""))
        secret = (v.get("secret") or {}).get("secretName", "")
        if name.startswith("kube-api-access-") or (secret and "-token-" in secret and name == secret):
            out.add(name)
    return out


def to_static_pod(pod: dict[str, Any], component: str) -> dict[str, Any]:
    """The static Pod form of a running DaemonSet Pod: named ``kubeadm-py-checkpoint-<component>``,
    without the DaemonSet controller's labels, scheduling fields, service account token volumes and
    status, with annotations naming the source Pod and its DaemonSet pod-template generation. The
    ``k8s-app`` label is renamed so no DaemonSet selector matches the mirror Pod."""
    meta = pod.get("metadata") or {}
    labels = {k: v for k, v in (meta.get("labels") or {}).items() if k not in DS_ONLY_LABELS}
    if "k8s-app" in labels:
        labels["k8s-app"] = checkpoint_name(component)
    annotations = {k: v for k, v in (meta.get("annotations") or {}).items() if k != CHECKPOINT_ANNOTATION}
    annotations[SOURCE_ANNOTATION] = f"{meta.get('namespace', KUBE_SYSTEM)}/{meta.get('name', '')}"
    generation = (meta.get("labels") or {}).get("pod-template-generation")
    if generation is not None:
        annotations[GENERATION_ANNOTATION] = str(generation)
    spec = copy.deepcopy(pod.get("spec") or {})
    for key in DS_ONLY_SPEC:
        spec.pop(key, None)
    drop = _token_volumes(spec)
    spec["volumes"] = [v for v in spec.get("volumes") or [] if v.get("name") not in drop]
    if not spec["volumes"]:
        del spec["volumes"]
    for c in spec.get("containers") or []:
        mounts = [m for m in c.get("volumeMounts") or [] if m.get("name") not in drop]
        if mounts:
            c["volumeMounts"] = mounts
        else:
            c.pop("volumeMounts", None)
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": checkpoint_name(component),
            "namespace": meta.get("namespace", KUBE_SYSTEM),
            "labels": labels,
            "annotations": annotations,
        },
        "spec": spec,
    }


class Action(StrEnum):
    NONE = "none"
    STORE = "store"  # write or refresh the stored checkpoint from the running DaemonSet Pod
    ACTIVATE = "activate"  # copy the stored checkpoint into the manifests directory
    DEACTIVATE = "deactivate"  # remove the active checkpoint: the DaemonSet Pod takes over


@dataclass(frozen=True)
class Seen:
    """What the checkpointer sees of one component on this node at one poll.

    ``api_up``: the API server answered (and for how long it has not, ``api_down_for``);
    ``api_pod``: the DaemonSet Pod for this node, Running and Ready, as the API has it, differs
    from the stored checkpoint (None: nothing to store); ``ds_running``: a container of the
    DaemonSet Pod runs here (CRI); ``ds_down_for``: since when none has; ``new_ds_container``: the
    kubelet has created a container of the DaemonSet Pod in a ready sandbox that was not there when
    the checkpoint was activated;
    ``stored`` / ``active``: the checkpoint files; ``handback_failed``: since the last hand-back
    the API server has not answered for :attr:`Timing.handback` and :data:`FAILED_STARTS`
    containers of the DaemonSet Pod it went to have exited."""

    api_up: bool
    api_down_for: float
    api_pod_changed: bool
    ds_running: bool
    ds_down_for: float
    ds_sandbox_ready: bool
    new_ds_container: bool
    stored: bool
    active: bool
    handback_failed: bool = False


@dataclass(frozen=True)
class Timing:
    grace: float = 10.0  # the API and the DaemonSet Pod down this long before a checkpoint runs
    takeover: float = 120.0  # a ready DaemonSet sandbox that runs nothing this long: back to the checkpoint
    handback: float = 60.0  # no API server this long after a hand-back (and the Pod exits): it failed


# (condition, action, why), first match wins; every row names its reason for the transition log.
RULES: tuple[tuple[str, Action, str], ...] = (
    (
        "active and new_ds_container",
        Action.DEACTIVATE,
        "the kubelet has created the DaemonSet Pod's container in a new sandbox",
    ),
    ("active", Action.NONE, "checkpoint running"),
    ("api_pod_changed and ds_running", Action.STORE, "the DaemonSet Pod runs"),
    (
        "stored and handback_failed",
        Action.ACTIVATE,
        "the DaemonSet Pod keeps exiting since the hand-back and no API server answers",
    ),
    ("stored and can_activate", Action.ACTIVATE, "no API server and no DaemonSet Pod running"),
    ("True", Action.NONE, ""),
)


def decide(seen: Seen, timing: Timing = Timing()) -> tuple[Action, str]:
    """The action for one component (:data:`RULES`, first match). A checkpoint is activated only
    when the API server has not answered and no container of the DaemonSet Pod has run for
    ``grace`` seconds, and no ready sandbox of the DaemonSet Pod is there (one that stays
    without a running container for ``takeover`` seconds no longer counts: its Pod is stuck)."""
    sandbox_blocks = seen.ds_sandbox_ready and seen.ds_down_for < timing.takeover
    names = {
        "active": seen.active,
        "stored": seen.stored,
        "new_ds_container": seen.new_ds_container,
        "api_pod_changed": seen.api_pod_changed,
        "ds_running": seen.ds_running,
        "handback_failed": seen.handback_failed and not seen.api_up and not seen.ds_running,
        "can_activate": (
            not seen.api_up
            and not seen.ds_running
            and seen.api_down_for >= timing.grace
            and seen.ds_down_for >= timing.grace
            and not sandbox_blocks
        ),
        "True": True,
    }
    for condition, action, why in RULES:
        if all(names[term] for term in condition.split(" and ")):
            return action, why
    raise AssertionError("the last rule always matches")
