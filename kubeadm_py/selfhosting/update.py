"""What ``upgrade apply`` decides about a self-hosted component (docs/selfhosting.md, "Upgrades"):
the DaemonSet that kubeadm-config renders now (the pivot's renderer, on the static Pod ``init``
would write), whether the live one already matches it, whether this node needs the checkpoint as a
bridge while its Pod is replaced, and when the rolling update is done. Nothing here writes."""

from __future__ import annotations

import copy
from typing import Any

from kubeadm_py.kube.compare import changed_paths, comparable, matches
from kubeadm_py.manifests.pod import from_yaml
from kubeadm_py.selfhosting.checkpoint_secrets import secret_names
from kubeadm_py.selfhosting.daemonset import build_daemonset, image_version

Obj = dict[str, Any]

# A DaemonSet Pod on another node whose container has restarted this often and is not Ready keeps
# failing (the kubelet's restart count, read through the API: this node's runtime cannot see that
# node's containers). Three restarts take the kubelet's back-off (10 s, 20 s, 40 s) past the 30 s
# grace period in which the Pod it replaced may still hold the port there (host network).
OTHER_NODE_RESTARTS = 3


def template_spec(ds: Obj | None) -> Obj:
    return (((ds or {}).get("spec") or {}).get("template") or {}).get("spec") or {}


def wanted(component: str, manifest: bytes, live: Obj | None) -> Obj:
    """The DaemonSet ``component``'s rendered static Pod ``manifest`` becomes, as pivot builds it;
    with certificates from Secrets when the live DaemonSet mounts Secrets (pivot's
    ``--certs-in-secrets``)."""
    pod = from_yaml(manifest, f"the rendered {component} manifest")
    in_secrets = bool(secret_names(template_spec(live)))
    return build_daemonset(component, pod, image_version(pod), certs_in_secrets=in_secrets)


def unchanged(want: Obj, live: Obj) -> bool:
    """The live DaemonSet has every field of the wanted one (the API adds defaults)."""
    return matches(want, live)


def changed(want: Obj, live: Obj) -> list[str]:
    """Where the wanted template differs from the live one (for the log), a few paths."""
    return changed_paths(comparable(want), live)[:5]


def previous(live: Obj) -> Obj:
    """The live DaemonSet as it can be written back (rollback): no status, no server metadata."""
    return comparable(copy.deepcopy(live))


def needs_bridge(live: Obj) -> bool:
    """One Pod of the DaemonSet at most (a single control-plane node): while it is replaced no other
    Pod serves (the API server), creates its successor (the controller-manager, whose DaemonSet
    controller does that), or binds it to the node (the scheduler). The checkpoint serves meanwhile."""
    status = live.get("status") or {}
    return int(status.get("desiredNumberScheduled") or 0) <= 1


def _ready(pod: Obj) -> bool:
    conds = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conds)


def rolled_out(ds: Obj | None, pods_here: list[Obj], node: str) -> tuple[bool, str]:
    """The rolling update is done: the controller saw the DaemonSet's generation, every node runs a
    Pod of its template and they are Ready, and this node's Pod (not being deleted) is Ready. Else
    why not."""
    if ds is None:
        return False, "the DaemonSet is gone"
    meta, status = ds.get("metadata") or {}, ds.get("status") or {}
    generation = int(meta.get("generation") or 0)
    if int(status.get("observedGeneration") or 0) < generation:
        return False, f"the DaemonSet controller has not seen generation {generation} yet"
    desired = int(status.get("desiredNumberScheduled") or 0)
    updated = int(status.get("updatedNumberScheduled") or 0)
    ready = int(status.get("numberReady") or 0)
    if updated < desired or ready < desired:
        return False, f"{updated}/{desired} Pods updated, {ready}/{desired} Ready"
    # Every scheduled Pod is updated (the controller counts a Pod whose template hash matches, as
    # well as one labelled with the generation: after a rollback an untouched Pod keeps its older
    # generation label), so this node's Pod that is not being deleted is of the current template.
    mine = [p for p in pods_here if not (p.get("metadata") or {}).get("deletionTimestamp")]
    if not mine:
        return False, f"no Pod of generation {generation} on {node} yet"
    if not any(_ready(p) for p in mine):
        return False, f"the Pod {mine[0]['metadata']['name']} on {node} is not Ready"
    return True, ""


def failing_elsewhere(pods: list[Obj], node: str, known: set[str]) -> list[tuple[Obj, Obj]]:
    """The Pods of ``pods`` on nodes other than ``node``, created since ``known`` was listed (not
    named in it) and not being deleted, whose container has restarted :data:`OTHER_NODE_RESTARTS`
    times and is not ready: (Pod, container status) each."""
    out = []
    for pod in pods:
        meta, spec = pod.get("metadata") or {}, pod.get("spec") or {}
        if (
            spec.get("nodeName") in (None, "", node)
            or meta.get("name") in known
            or meta.get("deletionTimestamp")
        ):
            continue
        for cs in (pod.get("status") or {}).get("containerStatuses") or []:
            if int(cs.get("restartCount") or 0) >= OTHER_NODE_RESTARTS and not cs.get("ready"):
                out.append((pod, cs))
                break
    return out
