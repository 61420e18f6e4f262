"""Conversion of older kubeadm API documents to ``kubeadm.k8s.io/v1beta4`` (as plain dicts).

Mirrors upstream ``apis/kubeadm/v1beta3/conversion.go`` and the v1beta2 -> v1beta3 changes:

v1beta2 -> v1beta3
  * ``ClusterConfiguration.dns.type`` removed (CoreDNS is the only DNS addon);
  * ``ClusterConfiguration.useHyperKubeImage`` removed;
  * ``ClusterStatus`` kind removed (API endpoints come from Pod annotations).
v1beta3 -> v1beta4
  * ``extraArgs`` / ``kubeletExtraArgs`` maps become lists of ``{name, value}`` sorted by name
    then value (apiServer, controllerManager, scheduler, etcd.local, nodeRegistration);
  * ``apiServer.timeoutForControlPlane`` moves to ``timeouts.controlPlaneComponentHealthCheck``
    of the InitConfiguration and JoinConfiguration (upstream ``SetConversionTimeoutControlPlane``);
  * ``JoinConfiguration.discovery.timeout`` moves to ``timeouts.discovery``.

Documents are expected to have passed their own version's schema first."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

from kubeadm_py.config.loader import Document
from kubeadm_py.config.types import KUBEADM_GROUP, V1BETA2, V1BETA3, V1BETA4

DEPRECATED_WARNING = (
    "{source}: your configuration uses the deprecated API version {api} ({docs}); it was converted to "
    "kubeadm.k8s.io/v1beta4 ({why}). Run 'kubeadm-py config migrate --old-config {old} "
    "--new-config <new file>' to write it in the new version"
)
WHY = {
    V1BETA3: "upstream kubeadm deprecated v1beta3 in v1.31 and v1.37 rejects it",
    V1BETA2: "upstream kubeadm removed v1beta2 in v1.27",
}


@dataclass
class Conversion:
    documents: list[Document]
    warnings: list[str] = field(default_factory=list)
    # Values that move between documents: the v1beta3 ClusterConfiguration's
    # timeoutForControlPlane lands in the Init/Join configurations.
    control_plane_timeout: str | None = None
    converted: bool = False


def args_to_list(args: dict[str, Any] | None) -> list[dict[str, str]] | None:
    if args is None:
        return None
    items = [{"name": str(k), "value": str(v)} for k, v in args.items()]
    return sorted(items, key=lambda a: (a["name"], a["value"]))


def _args(owner: dict[str, Any] | None, key: str) -> None:
    if isinstance(owner, dict) and isinstance(owner.get(key), dict):
        owner[key] = args_to_list(owner[key])


def _v1beta2_to_v1beta3(doc: Document, conv: Conversion) -> Document | None:
    body = copy.deepcopy(doc.body)
    if doc.kind == "ClusterStatus":
        conv.warnings.append(
            f"{doc.source}: {doc.where}: the ClusterStatus kind was removed in v1beta3 and is ignored"
        )
        return None
    if doc.kind == "ClusterConfiguration":
        dns = body.get("dns")
        if isinstance(dns, dict) and "type" in dns and dns.pop("type") not in ("CoreDNS", "", None):
            conv.warnings.append(
                f"{doc.source}: {doc.where}: dns.type is gone in v1beta3; CoreDNS is always used"
            )
        if body.pop("useHyperKubeImage", False):
            conv.warnings.append(
                f"{doc.source}: {doc.where}: useHyperKubeImage was removed in v1beta3; "
                "separate images are used"
            )
    body["apiVersion"] = V1BETA3
    return Document(doc.index, V1BETA3, doc.kind, body, doc.source)


def _v1beta3_to_v1beta4(doc: Document, conv: Conversion) -> Document:
    body = copy.deepcopy(doc.body)
    if doc.kind == "ClusterConfiguration":
        for comp in ("apiServer", "controllerManager", "scheduler"):
            _args(body.get(comp), "extraArgs")
        _args((body.get("etcd") or {}).get("local"), "extraArgs")
        api = body.get("apiServer")
        if isinstance(api, dict) and "timeoutForControlPlane" in api:
            value = api.pop("timeoutForControlPlane")
            from kubeadm_py.durations import parse_duration

            if value is not None and parse_duration(str(value)) != 0:
                conv.control_plane_timeout = str(value)
    elif doc.kind in ("InitConfiguration", "JoinConfiguration"):
        _args(body.get("nodeRegistration"), "kubeletExtraArgs")
        if doc.kind == "JoinConfiguration":
            discovery = body.get("discovery")
            if isinstance(discovery, dict) and "timeout" in discovery:
                timeout = discovery.pop("timeout")
                if timeout is not None:
                    body.setdefault("timeouts", {})["discovery"] = timeout
    body["apiVersion"] = V1BETA4
    return Document(doc.index, V1BETA4, doc.kind, body, doc.source)


TIMEOUT_KINDS = ("InitConfiguration", "JoinConfiguration")


def apply_control_plane_timeout(conv: Conversion, body: dict[str, Any]) -> None:
    """Put a converted timeoutForControlPlane into an Init/JoinConfiguration that lacks one
    (upstream ``SetConversionTimeoutControlPlane``)."""
    if conv.control_plane_timeout is not None and body.get("kind") in TIMEOUT_KINDS:
        timeouts = body.setdefault("timeouts", {})
        timeouts.setdefault("controlPlaneComponentHealthCheck", conv.control_plane_timeout)


def new_document(kind: str, conv: Conversion) -> dict[str, Any]:
    """The v1beta4 document of ``kind`` for a file that has none (``init`` and ``config migrate``
    both use it): it carries what conversion moved into that kind."""
    body: dict[str, Any] = {"apiVersion": V1BETA4, "kind": kind}
    apply_control_plane_timeout(conv, body)
    return body


def convert(documents: list[Document]) -> Conversion:
    """Convert every kubeadm document to v1beta4; other documents pass through unchanged."""
    conv = Conversion([])
    for doc in documents:
        api = doc.api_version
        if api not in (V1BETA2, V1BETA3):
            conv.documents.append(doc)
            continue
        conv.converted = True
        current: Document | None = doc
        if api == V1BETA2:
            current = _v1beta2_to_v1beta3(doc, conv)
        if current is not None:
            conv.documents.append(_v1beta3_to_v1beta4(current, conv))
    for doc in conv.documents:
        apply_control_plane_timeout(conv, doc.body)
    for api in (V1BETA2, V1BETA3):
        old = [doc for doc in documents if doc.api_version == api]
        if old:
            source = old[0].source
            conv.warnings.insert(
                0,
                DEPRECATED_WARNING.format(
                    source=source,
                    api=api,
                    docs=", ".join(doc.where for doc in old),
                    why=WHY[api],
                    old=source if not source.startswith("<") else "<old file>",
                ),
            )
    return conv


def is_kubeadm(api_version: str) -> bool:
    return api_version.startswith(KUBEADM_GROUP + "/")
