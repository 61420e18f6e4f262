"""The names the pivot, the checkpointer, ``status``, ``verify`` and ``reset`` agree on
(docs/selfhosting.md, "The contract"). Change one only together with all of its readers."""

from __future__ import annotations

from kubeadm_py.constants import CONTROL_PLANE_COMPONENTS, KUBERNETES_DIR, TMP_DIR

# The components that become DaemonSets, in pivot order (upstream ControlPlaneComponents); local
# etcd stays a static Pod.
COMPONENTS = CONTROL_PLANE_COMPONENTS
PREFIX = "self-hosted-"  # upstream AddSelfHostedPrefix
# A node runs self-hosted components only once labelled: pivot is per node.
NODE_LABEL = "kubeadm-py.io/self-hosted"
NODE_LABEL_VALUE = "true"
# Pod template annotation: the checkpointer keeps a checkpoint of Pods that carry it.
CHECKPOINT_ANNOTATION = "kubeadm-py.io/checkpoint"
TIER = "control-plane"
SELFHOSTING_DIR = f"{KUBERNETES_DIR}/selfhosting"
# <component>.yaml here: a stored checkpoint; kubeadm-py-checkpoint-<component>.yaml in the
# manifests directory: an active one (a temporary static Pod while the API is down).
CHECKPOINT_DIR = f"{SELFHOSTING_DIR}/checkpoints"
ACTIVE_CHECKPOINT_PREFIX = "kubeadm-py-checkpoint-"
# Where pivot keeps the static manifest it moved out of the manifests directory.
BACKUP_DIR = f"{TMP_DIR}/kubeadm-py-selfhosting"
# The checkpointer's systemd unit, removed by reset when present (the checkpointer installs it).
CHECKPOINTER_UNIT = "kubeadm-py-checkpointer.service"
CHECKPOINTER_UNIT_FILE = f"/etc/systemd/system/{CHECKPOINTER_UNIT}"
# kubeadm-py's own feature gate (no kubeadm release has it): init pivots after bootstrap.
FEATURE_GATE = "SelfHosting"


def ds_name(component: str) -> str:
    return PREFIX + component


def pod_labels(component: str) -> dict[str, str]:
    """The DaemonSet's selector and its pod template labels."""
    return {"k8s-app": ds_name(component), "tier": TIER}


def label_selector(component: str) -> str:
    return f"k8s-app={ds_name(component)}"


def backup_path(component: str) -> str:
    return f"{BACKUP_DIR}/{component}.yaml"


def stored_checkpoint(component: str) -> str:
    return f"{CHECKPOINT_DIR}/{component}.yaml"


def active_checkpoint(manifests_dir: str, component: str) -> str:
    return f"{manifests_dir.rstrip('/')}/{ACTIVE_CHECKPOINT_PREFIX}{component}.yaml"


def enabled(feature_gates: object) -> bool:
    """Whether ``featureGates`` (ClusterConfiguration) turns self-hosting on."""
    return isinstance(feature_gates, dict) and feature_gates.get(FEATURE_GATE) is True
