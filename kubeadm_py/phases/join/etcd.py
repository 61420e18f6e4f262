"""``join phase etcd-join``: add this control plane to the stacked etcd cluster
(upstream ``phases/etcd/local.go`` CreateStackedEtcdStaticPodManifestFile).

1. Endpoints of the existing members from the etcd static Pods' ``kubeadm.kubernetes.io/
   etcd.advertise-client-urls`` annotations (read with admin.conf, written by control-plane-prepare).
2. Add ``https://<advertiseAddress>:2380`` as a member: a **learner** where the version table below
   says kubeadm does (EtcdLearnerMode, default from v1.29, GA later; the feature gate can turn it on
   for v1.27/v1.28 or off before GA), else a plain voting member as kubeadm v1.20-v1.28 did.
   Idempotent: an existing member with this peer URL is reused.
3. Write ``etcd.yaml`` with ``--initial-cluster`` = every member (the new one under this node's
   name, nameless ones under their hex id) and ``--initial-cluster-state=existing``.
4. Promote the learner (retried while etcd says it is not in sync yet, up to timeouts.etcdAPICall).
5. Wait for the cluster to be healthy (8 x 5 s as upstream).

The etcd client comes from the run's etcd effector (``ctx.fx.etcd(endpoints, cert_dir)``; its
dry-run twin knows no member and only says what it would do); every wait and retry goes through
the run's waiter (whose dry-run twin waits for nothing)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from kubeadm_py.changes import Change
from kubeadm_py.constants import KUBE_SYSTEM
from kubeadm_py.errors import KubeadmError
from kubeadm_py.phases.join import data as join_data
from kubeadm_py.workflow.phase import Phase

if TYPE_CHECKING:
    from collections.abc import Sequence

    from kubeadm_py.effectors.etcd import EtcdMembership
    from kubeadm_py.etcd.client import Member
    from kubeadm_py.phases.join.state import JoinContext

HEALTH_RETRIES, HEALTH_INTERVAL = 8, 5.0
PROMOTE_INTERVAL = 0.5
ENDPOINTS_INTERVAL = 0.5  # constants.KubernetesAPICallRetryInterval
ETCD_POD_SELECTOR = "component=etcd,tier=control-plane"
FLAGS = ("config", "control-plane", "dry-run", "patches", "apiserver-advertise-address", "node-name")


@dataclass(frozen=True)
class LearnerRule:
    since: tuple[int, int]
    default: bool  # learner mode unless the EtcdLearnerMode gate says otherwise
    gate_settable: bool  # the gate can change it


# How kubeadm adds a stacked etcd member, per Kubernetes minor (rows apply from `since`).
LEARNER_TABLE: tuple[LearnerRule, ...] = (
    LearnerRule((1, 0), False, False),  # MemberAdd (voting) - v1.20's behaviour
    LearnerRule((1, 27), False, True),  # EtcdLearnerMode alpha
    LearnerRule((1, 29), True, True),  # beta, on by default
    LearnerRule((1, 32), True, False),  # GA: always learner
)


def use_learner(version: str, feature_gates: dict[str, Any] | None) -> bool:
    from kubeadm_py.semver import major_minor

    minor = major_minor(version, LEARNER_TABLE[-1].since)
    rule = LEARNER_TABLE[0]
    for r in LEARNER_TABLE:
        if minor >= r.since:
            rule = r
    gate = (feature_gates or {}).get("EtcdLearnerMode")
    if rule.gate_settable and isinstance(gate, bool):
        return gate
    return rule.default


def initial_cluster(members: Sequence[Member], name: str, peer_url: str) -> list[tuple[str, str]]:
    """``--initial-cluster`` entries: every member with its first peer URL; the member with our peer
    URL is named ``name`` (it has no name until it starts), other nameless ones by hex id."""
    out: list[tuple[str, str]] = []
    for m in members:
        urls = list(m.peer_urls)
        if not urls:
            continue
        if peer_url in urls:
            out.append((name, peer_url))
        else:
            out.append((m.name or format(int(m.id), "x"), urls[0]))
    if not any(u == peer_url for _, u in out):
        out.append((name, peer_url))
    return out


def _annotated_urls(pods: list[dict[str, Any]]) -> list[str]:
    from kubeadm_py.manifests.etcd import ANNOTATION_CLIENT_URLS

    urls: list[str] = []
    for pod in pods:
        ann = ((pod.get("metadata") or {}).get("annotations") or {}).get(ANNOTATION_CLIENT_URLS)
        if ann:
            urls.extend(u.strip() for u in str(ann).split(",") if u.strip())
    return list(dict.fromkeys(urls))


# Control-plane Node labels across versions (1.20 labels both, newer only control-plane).
CONTROL_PLANE_NODE_LABELS = ("node-role.kubernetes.io/control-plane", "node-role.kubernetes.io/master")
# How long to wait for the etcd mirror Pods before falling back to the control-plane Nodes.
MIRROR_POD_GRACE = 20.0


def _control_plane_node_urls(ctx: JoinContext) -> list[str]:
    """https://<InternalIP>:2379 of every control-plane Node: where stacked etcd listens when its
    mirror Pod (and so the annotation) is not registered yet, e.g. on a slow first node."""
    urls: list[str] = []
    for node in ctx.kube().list("Node", None):
        labels = (node.get("metadata") or {}).get("labels") or {}
        if not any(label in labels for label in CONTROL_PLANE_NODE_LABELS):
            continue
        for addr in (node.get("status") or {}).get("addresses") or []:
            if addr.get("type") == "InternalIP" and addr.get("address"):
                host = addr["address"]
                urls.append(f"https://[{host}]:2379" if ":" in host else f"https://{host}:2379")
    return list(dict.fromkeys(urls))


def etcd_endpoints(ctx: JoinContext) -> list[str]:
    """Client URLs of the existing etcd members, from their static Pods' annotations; polled up to
    timeouts.kubernetesAPICall while no mirror Pod is registered yet (getEtcdEndpointsWithRetry).
    Unlike upstream, after a short grace period the control-plane Nodes' addresses serve instead
    (the member list fetched from them then names every member). A dry run waits for nothing and
    finds none (the etcd effector's twin needs none)."""
    from kubeadm_py.effectors.waiting import Target
    from kubeadm_py.manifests.etcd import ANNOTATION_CLIENT_URLS

    waiter = ctx.fx.waiter
    found: list[str] = []
    start = waiter.clock.monotonic()
    grace = min(MIRROR_POD_GRACE, join_data.timeout(ctx, "kubernetesAPICall"))

    def check() -> tuple[bool, str]:
        urls = _annotated_urls(ctx.kube().list("Pod", KUBE_SYSTEM, label_selector=ETCD_POD_SELECTOR))
        if not urls and waiter.clock.monotonic() - start >= grace:
            urls = _control_plane_node_urls(ctx)
            if urls:
                ctx.log(
                    "[etcd] no etcd mirror Pod is registered yet; using the control-plane Nodes' "
                    f"addresses {', '.join(urls)}"
                )
        found[:] = urls
        return bool(urls), "no etcd mirror Pod registered"

    what = f"an etcd mirror Pod with the {ANNOTATION_CLIENT_URLS} annotation"
    bad = waiter.wait_all(
        [Target("etcd-endpoints", what, check)],
        join_data.timeout(ctx, "kubernetesAPICall"),
        interval=ENDPOINTS_INTERVAL,
    )
    if bad:
        raise KubeadmError(
            "could not find any etcd endpoint: no etcd static Pod in kube-system carries the "
            f"{ANNOTATION_CLIENT_URLS} annotation",
            hint="is the cluster using stacked etcd, and are the control-plane mirror Pods registered?",
        )
    return found


def promote(ctx: JoinContext, client: EtcdMembership, member_id: int) -> None:
    """Promote the learner, retried (through the run's waiter) while etcd says it is not in sync
    yet, up to timeouts.etcdAPICall."""
    timeout = join_data.timeout(ctx, "etcdAPICall")

    def attempt() -> tuple[bool, str]:
        try:
            client.promote(member_id)
        except Exception as e:  # noqa: BLE001 - the etcd client's error type is not fixed here
            if "in sync" not in str(e):
                ctx.log(f"[etcd] Promoting the learner failed ({e}); retrying")
            return False, str(e)
        return True, ""

    what = f"learner member {member_id:x} to be promoted to a voting member"
    ok, last = ctx.fx.waiter.until(what, attempt, timeout, interval=PROMOTE_INTERVAL)
    if not ok:
        raise KubeadmError(
            f"etcd: could not promote learner member {member_id:x} within {timeout:.0f}s: {last}",
            hint="is the new etcd member running? look at the etcd container's log on this node",
        )


def run_etcd_join(ctx: JoinContext) -> list[Change]:
    from kubeadm_py.manifests.etcd import build_etcd, etcd_data_dir, peer_url
    from kubeadm_py.manifests.write import write_static_pod
    from kubeadm_py.phases.shared.kit import run_patches

    cfg = ctx.cfg
    name, peer = cfg.node_name, peer_url(cfg.advertise_address)
    learner = use_learner(cfg.kubernetes_version, cfg.cluster.get("featureGates"))
    changes: list[Change] = [ctx.fs.mkdir(etcd_data_dir(cfg), 0o700)]
    endpoints = etcd_endpoints(ctx)
    client = ctx.fx.etcd(endpoints, ctx.cert_dir)
    existing = client.member_by_peer_url(peer)
    if existing is not None:
        ctx.log(f"[etcd] etcd member {peer} already exists (id {existing.id:x}); not adding it again")
        members = client.members()
    else:
        via = f" via {', '.join(endpoints)}" if endpoints else ""
        ctx.log(f"[etcd] Adding etcd member {peer}{' as a learner' if learner else ''}{via}")
        members = client.add_member(name, peer, learner=learner)
        ctx.log("[etcd] Announced new etcd member joining to the existing etcd cluster")
    cluster = initial_cluster(members, name, peer)
    ctx.state.etcd_initial_cluster = cluster
    ctx.log(
        f'[etcd] Creating static Pod manifest for "etcd" (initial cluster: '
        f"{','.join(f'{n}={u}' for n, u in cluster)})"
    )
    result = build_etcd(cfg, cluster)
    for w in result.warnings:
        ctx.log(f"[etcd] WARNING: {w}")
    pod = result.pods["etcd"]
    changes.append(write_static_pod(ctx.fs, ctx.manifests_dir, "etcd", pod, run_patches(ctx), ctx.log))
    changes.append(
        Change(
            "object",
            "update",
            f"etcd member {peer}",
            "member exists" if existing is not None else f"added{' as learner' if learner else ''}",
        )
    )
    me = client.member_by_peer_url(peer)
    if me is not None and me.is_learner:
        ctx.log("[etcd] Promoting the learner to a voting member once it is in sync")
        promote(ctx, client, me.id)
        changes.append(Change("object", "update", f"etcd member {peer}", "promoted to voting member"))
    total = HEALTH_RETRIES * HEALTH_INTERVAL
    ctx.log(f"[etcd] Waiting for the new etcd member to join the cluster. This can take up to {total:.0f}s")
    client.wait_healthy(ctx.fx.waiter.timeout(total))
    return changes


def etcd_join_phase() -> Phase[JoinContext]:
    from kubeadm_py.phases.join.control_plane import control_plane_only

    phase: Phase[JoinContext] = Phase(
        "etcd-join",
        "Join etcd for control plane nodes",
        run=run_etcd_join,
        flags=FLAGS,
        run_if=lambda ctx: bool(ctx.cfg.local_etcd),
    )
    return control_plane_only(phase)
